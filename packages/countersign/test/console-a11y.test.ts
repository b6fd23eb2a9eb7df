import assert from 'node:assert/strict';
import { test } from 'node:test';
import { A11Y_REVIEW_PAGES, seriousViolations } from './console-a11y-pages.js';
import { a11ySuite } from './console-a11y-suite.js';
import { cspViolations, DESKTOP, newPage, type PageGlobals } from './console-pages.js';

/**
 * The reviewing pages (sign-in, inbox, actions pending and decided) checked with axe-core in a real
 * Chromium (console-a11y-suite.ts; the other pages: console-a11y-oversight, -policy and -admin.test.ts),
 * and proof that running axe leaves each page's own Content-Security-Policy in force.
 */
a11ySuite('postgres', 'accessibility of the reviewing pages (axe-core)', A11Y_REVIEW_PAGES, ({ browser, w }) => {
  test("axe runs while the page's own CSP stays in force: an inline script injected beside it is still blocked", async () => {
    const { context, page } = await newPage(browser(), DESKTOP);
    try {
      const res = await page.goto(`${w().gw.url}/sign-in`);
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
