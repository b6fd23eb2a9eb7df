import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { type A11yPage, describeViolations, seriousViolations } from './console-a11y-pages.js';
import { inBrowserOn, launchChromium } from './console-browser.js';
import { cspViolations, DESKTOP, newPage, overflowX, PHONE } from './console-pages.js';
import { type Dialect, type World, world } from './helpers.js';
import { fastPasswords, withPassword } from './session-helpers.js';

/**
 * Console pages checked with axe-core in a real Chromium, at 1440×900 and 390×844: no violation of impact
 * serious or critical, and no horizontal scroll. axe runs through the DevTools protocol, so each page keeps
 * its real Content-Security-Policy; the check asserts nothing was blocked. `extra` adds tests that share the
 * file's browser and gateway. `dialect`: the database the file's gateway runs on (see `inBrowserOn`).
 */
export function a11ySuite(
  dialect: Dialect,
  title: string,
  pages: readonly A11yPage[],
  extra?: (ctx: { browser: () => Browser; w: () => World }) => void,
): void {
  let browser: Browser;
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => browser?.close());

  inBrowserOn(dialect, title, (on) => {
    let w: World;
    before(async () => {
      w = await world(on, { listen: true, config: fastPasswords });
      for (const email of new Set(pages.map((p) => p.as))) if (email !== null) await withPassword(w, email);
    });
    after(async () => w.close());

    test(`no page (${pages.map((p) => p.name).join(', ')}) has a serious or critical violation on a desktop or a phone`, async () => {
      const found: string[] = [];
      for (const p of pages) {
        const path = await p.path(w);
        const { context, page, errors } = await newPage(browser, DESKTOP, p.as === null ? undefined : { base: w.gw.url, email: p.as });
        try {
          await page.goto(`${w.gw.url}${path}`);
          await p.ready(page);
          for (const viewport of [DESKTOP, PHONE]) {
            await page.setViewportSize(viewport);
            const vs = await seriousViolations(page);
            if (vs.length > 0) found.push(describeViolations(`${p.name} at ${viewport.width}×${viewport.height}`, vs));
            // Reflow (WCAG 1.4.10): a phone never scrolls sideways.
            const overflow = await overflowX(page);
            if (overflow > 0) found.push(`${p.name} at ${viewport.width}×${viewport.height}: ${overflow}px of horizontal scroll`);
          }
          assert.deepEqual(await cspViolations(page), [], `${p.name}: the page's CSP blocked nothing (axe included)`);
          assert.deepEqual(errors, [], `${p.name}: no script error`);
        } finally {
          await context.close();
        }
      }
      if (found.length > 0) console.log(found.join('\n'));
      assert.deepEqual(found, [], 'serious or critical accessibility violations');
    });

    extra?.({ browser: () => browser, w: () => w });
  });
}
