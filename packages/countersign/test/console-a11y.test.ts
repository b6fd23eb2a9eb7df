import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { A11Y_PAGES, describeViolations, seriousViolations } from './console-a11y-pages.js';
import { launchChromium } from './console-browser.js';
import { cspViolations, DESKTOP, newPage, overflowX, type PageGlobals, PHONE } from './console-pages.js';
import { forEachDialect, type World, world } from './helpers.js';
import { fastPasswords, withPassword } from './session-helpers.js';

/**
 * Every console page (A11Y_PAGES) checked with axe-core in a real Chromium, at 1440×900 and 390×844: no
 * violation of impact serious or critical, and no horizontal scroll. axe runs through the DevTools
 * protocol, so each page keeps its real Content-Security-Policy; the test asserts nothing was blocked.
 */

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => browser?.close());

forEachDialect('accessibility of the console pages (axe-core)', (dialect) => {
  let w: World;
  before(async () => {
    w = await world(dialect, { listen: true, config: fastPasswords });
    for (const email of new Set(A11Y_PAGES.map((p) => p.as))) if (email !== null) await withPassword(w, email);
  });
  after(async () => w.close());

  test('no page has a serious or critical violation on a desktop or a phone', async () => {
    const found: string[] = [];
    for (const p of A11Y_PAGES) {
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

  test("axe runs while the page's own CSP stays in force: an inline script injected beside it is still blocked", async () => {
    const { context, page } = await newPage(browser, DESKTOP);
    try {
      const res = await page.goto(`${w.gw.url}/sign-in`);
      assert.match(res?.headers()['content-security-policy'] ?? '', /script-src 'self'/);
      await page.getByRole('button', { name: 'Sign in' }).waitFor();
      assert.deepEqual(await seriousViolations(page), []);
      assert.equal(await page.evaluate('typeof window.axe'), 'object', 'axe was loaded');
      await page.evaluate(() => {
        const doc = (
          globalThis as unknown as { document: { createElement(t: string): { textContent: string }; body: { append(n: unknown): void } } }
        ).document;
        const script = doc.createElement('script');
        script.textContent = 'window.__pwned = true';
        doc.body.append(script);
      });
      assert.equal(await page.evaluate(() => (globalThis as unknown as PageGlobals).__pwned), undefined, 'the inline script did not run');
      assert.ok(
        (await cspViolations(page))?.some((v) => v.startsWith('script-src')),
        'the CSP refused it',
      );
    } finally {
      await context.close();
    }
  });
});
