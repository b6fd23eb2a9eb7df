import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { inBrowserOn, launchChromium } from './console-browser.js';
import { shootBoth } from './console-oversight-shared.js';
import { consoleWorld, cspViolations, DESKTOP, newPage, overflowX, PHONE, shown } from './console-pages.js';
import { auditRows, propose, review, type World } from './helpers.js';

/** The console's history page in Chromium against a real gateway: filters find the right actions, a row's timeline is its audit entries in order. */

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => browser?.close());

inBrowserOn('sqlite', 'the history page in Chromium', (dialect) => {
  let w: World;
  let base: string;
  const ids = { approved: '', denied: '', pending: '' };
  before(async () => {
    w = await consoleWorld(dialect);
    base = w.gw.url;
    ids.approved = (await propose(w, { tool: 'deploy', arguments: { v: 1 }, purpose: 'ship release 1.4.2' })).body.id;
    ids.denied = (await propose(w, { tool: 'drop-table', arguments: { t: 'users' }, purpose: 'clean up 100% of users' })).body.id;
    ids.pending = (await propose(w, { tool: 'deploy', arguments: { v: 2 }, purpose: 'ship release 1.5.0' })).body.id;
    assert.equal((await review(w, ids.approved, w.keys.alice, { decision: 'approve' })).status, 200);
    assert.equal((await review(w, ids.denied, w.keys.carol, { decision: 'deny', reason: 'never the users table' })).status, 200);
  });
  after(async () => w.close());

  const listed = async (page: import('playwright-core').Page) =>
    page.getByTestId('history-item').evaluateAll((els) => els.map((e) => e.getAttribute('data-action-id')));

  test('the filters find the right actions, and a shared link shows the same search', async () => {
    const { context, page, errors } = await newPage(browser, DESKTOP, { base, email: 'alice@example.com' });
    try {
      await page.goto(`${base}/history`);
      await page.getByTestId('history-count').filter({ hasText: '3 actions' }).waitFor();
      assert.deepEqual(await listed(page), [ids.pending, ids.denied, ids.approved], 'newest first');

      await page.getByLabel('Decided by').fill('carol@example.com');
      await page.getByRole('button', { name: 'Search' }).click();
      await page.waitForURL((u) => u.searchParams.get('decided_by') === 'carol@example.com');
      await page.getByTestId('history-count').filter({ hasText: '1 action,' }).waitFor();
      assert.deepEqual(await listed(page), [ids.denied]);

      await page.getByRole('button', { name: 'Clear' }).click();
      await page.getByLabel('Status').selectOption('pending');
      await page.getByLabel('Purpose contains').fill('RELEASE');
      await page.getByRole('button', { name: 'Search' }).click();
      await page.waitForURL((u) => u.searchParams.get('status') === 'pending');
      await page.getByTestId('history-count').filter({ hasText: '1 action,' }).waitFor();
      assert.deepEqual(await listed(page), [ids.pending]);

      // % is a character to find, not a wildcard; the URL carries the search.
      await page.goto(`${base}/history?q=${encodeURIComponent('100%')}`);
      await page.getByTestId('history-count').filter({ hasText: '1 action,' }).waitFor();
      assert.deepEqual(await listed(page), [ids.denied]);
      assert.equal(await page.getByLabel('Purpose contains').inputValue(), '100%');

      await page.goto(`${base}/history?tool=no-such-tool`);
      await page.getByTestId('history-count').filter({ hasText: 'No action matches.' }).waitFor();
      assert.deepEqual(await cspViolations(page), []);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('a row’s timeline shows its audit entries in order, and the page fits a phone', async () => {
    const { context, page, errors } = await newPage(browser, PHONE, { base, email: 'alice@example.com' });
    try {
      await page.goto(`${base}/history?decided_by=carol%40example.com`);
      const row = page.locator(`[data-action-id="${ids.denied}"]`);
      await row.getByRole('button', { name: 'Show timeline' }).click();
      const entries = row.getByTestId('timeline-entry');
      const expected = (await auditRows(w, ids.denied)).map((r) => r.event);
      assert.ok(expected.length >= 2, 'proposed and denied, at least');
      await entries.nth(expected.length - 1).waitFor();
      const shownEvents = await entries.evaluateAll((els) => els.map((e) => e.querySelector('.timeline-event')?.textContent));
      assert.deepEqual(shownEvents, expected);
      const last = await shown(entries.last());
      assert.match(last, /carol@example\.com/);
      assert.match(last, /never the users table/);
      assert.equal(await row.getByRole('button', { name: 'Hide timeline' }).getAttribute('aria-expanded'), 'true');
      assert.ok((await overflowX(page)) <= 0, 'no horizontal scroll at 390 px');
      await page.goto(`${base}/history`);
      await page.getByTestId('history-count').filter({ hasText: '3 actions' }).waitFor();
      await page.locator(`[data-action-id="${ids.approved}"]`).getByRole('button', { name: 'Show timeline' }).click();
      await page.getByTestId('timeline-entry').first().waitFor();
      assert.ok((await overflowX(page)) <= 0, 'no horizontal scroll with a timeline open');
      if (dialect === 'sqlite') await shootBoth(page, 'history');
      assert.deepEqual(await cspViolations(page), []);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});
