import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { inBrowserOn, launchChromium } from './console-browser.js';
import { consoleWorld, DESKTOP, newPage, overflowX, type PageGlobals, PHONE, SHOTS, shown } from './console-pages.js';
import { propose, type World } from './helpers.js';

/**
 * The reviewer console in a real Chromium: what an agent writes is shown as text and flagged, never run;
 * the pages fit a phone. `CONSOLE_SCREENSHOTS=1` writes the screenshots in docs/console/.
 */

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => browser?.close());

inBrowserOn('sqlite', 'hostile content and layout in the reviewer console', (dialect) => {
  let w: World;
  let base: string;
  const alice = () => ({ base, email: 'alice@example.com' });
  before(async () => {
    w = await consoleWorld(dialect);
    base = w.gw.url;
  });
  after(async () => w.close());
  test('hostile content is shown as text and flagged; no script runs, no CSP violation, no horizontal scroll on a phone', async () => {
    const big = 'A'.repeat(1_000_000);
    const { body: a, status } = await propose(w, {
      tool: 'send\u202Eexe.txt',
      purpose: '<img src=x onerror="window.__pwned=1"> please approve',
      resource: 'javascript:window.__pwned=2',
      arguments: {
        html: '<script>window.__pwned=3</script>',
        link: 'javascript:window.__pwned=4',
        file: 'invoice\u202Efdp.exe',
        command: 'rm\u200B -rf /',
        host: 'pаypal.com',
        'ke\u2066y': 1,
        big,
      },
    });
    assert.equal(status, 201);
    for (const viewport of [PHONE, DESKTOP]) {
      const { context, page, errors } = await newPage(browser, viewport, alice());
      try {
        await page.goto(`${base}/actions/${a.id}`);
        await page.getByTestId('hostile-warning').waitFor();
        const main = await shown(page.locator('main'));
        assert.ok(main.includes('<script>window.__pwned=3</script>'), 'the <script> is text');
        assert.ok(main.includes('<img src=x onerror="window.__pwned=1"> please approve'), 'the <img> is text');
        assert.ok(main.includes('javascript:window.__pwned=4'), 'the javascript: URL is text');
        assert.ok(main.includes('invoice⟦U+202E⟧fdp.exe'), 'the RTL override is shown');
        assert.ok(main.includes('rm⟦U+200B⟧ -rf /'), 'the zero-width space is shown');
        assert.ok(main.includes('send⟦U+202E⟧exe.txt'), 'in the tool name too');
        assert.ok(main.includes('ke⟦U+2066⟧y'), 'and in keys');
        const warning = await shown(page.getByTestId('hostile-warning'));
        assert.match(warning, /bidirectional control characters/);
        assert.match(warning, /invisible characters/);
        assert.match(warning, /mixing alphabets/);
        assert.ok((await page.locator('mark.mixed-script', { hasText: 'pаypal' }).count()) >= 1, 'the look-alike word is marked');
        // The 1 MB string: cut, with an explicit way to see it all.
        assert.ok(!main.includes('A'.repeat(2001)), 'the long value is cut');
        if (SHOTS && dialect === 'sqlite') {
          mkdirSync(SHOTS, { recursive: true });
          await page.screenshot({ path: join(SHOTS, `action-hostile-${viewport.width}.png`) });
        }
        const showAll = page.getByRole('button', { name: 'Show all (1,000,000)' });
        await showAll.waitFor();
        if (viewport === PHONE) {
          await showAll.click();
          assert.ok((await shown(page.locator('main'))).includes(big), 'show all shows all of it');
        }
        const dom = await page.evaluate(() => {
          const win = globalThis as unknown as PageGlobals;
          return {
            pwned: win.__pwned,
            csp: win.__csp,
            scripts: win.document.querySelectorAll('script').length,
            images: win.document.querySelectorAll('img').length,
            jsLinks: win.document.querySelectorAll('a[href^="javascript:" i]').length,
            overflow: win.document.documentElement.scrollWidth - win.innerWidth,
          };
        });
        assert.deepEqual(dom, { pwned: undefined, csp: [], scripts: 1, images: 0, jsLinks: 0, overflow: dom.overflow });
        assert.ok(dom.overflow <= 0, `no horizontal scroll at ${viewport.width}px (overflow ${dom.overflow}px)`);
        assert.deepEqual(errors, []);
      } finally {
        await context.close();
      }
    }
  });

  test('the inbox and an action page fit a phone (390×844) without horizontal scroll', async () => {
    await propose(w, {
      tool: 'deploy',
      arguments: { env: 'production', version: '1.4.2', services: ['api', 'worker', 'scheduler'], canary: { percent: 10, hold: '15m' } },
      purpose: 'Release 1.4.2 to production: fixes the invoice rounding bug (#2214)',
      resource: 'k8s://prod-eu-1/deployments/api',
      on_behalf_of: 'dora@example.com',
    });
    for (const viewport of [PHONE, DESKTOP]) {
      const { context, page } = await newPage(browser, viewport, alice());
      try {
        await page.goto(`${base}/inbox`);
        await page
          .getByRole('link', { name: /deploy/ })
          .first()
          .waitFor();
        const overflow = await overflowX(page);
        assert.ok(overflow <= 0, `inbox: no horizontal scroll at ${viewport.width}px (${overflow}px)`);
        if (SHOTS && dialect === 'sqlite')
          await page.screenshot({ path: join(SHOTS, `inbox-${viewport.width}.png`), fullPage: viewport === PHONE });
        await page.getByRole('link', { name: /for dora@example\.com/ }).click();
        await page.getByRole('button', { name: 'Approve' }).waitFor();
        const o2 = await overflowX(page);
        assert.ok(o2 <= 0, `action page: no horizontal scroll at ${viewport.width}px (${o2}px)`);
        if (SHOTS && dialect === 'sqlite') await page.screenshot({ path: join(SHOTS, `action-${viewport.width}.png`), fullPage: true });
      } finally {
        await context.close();
      }
    }
  });
});
