import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { inBrowserOn, launchChromium } from './console-browser.js';
import { shootBoth } from './console-oversight-shared.js';
import { consoleWorld, cspViolations, DESKTOP, newPage, overflowX, PHONE, shown } from './console-pages.js';
import { propose, review, type World } from './helpers.js';

/** The console's dashboard in Chromium against a real gateway: the figures of a known set of actions, drawn and tabled. */

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => browser?.close());

inBrowserOn('sqlite', 'the dashboard in Chromium', (dialect) => {
  let w: World;
  let base: string;
  before(async () => {
    w = await consoleWorld(dialect);
    base = w.gw.url;
    // Five actions: two approved (alice, carol), one denied (alice), two pending.
    const ids: string[] = [];
    for (const [tool, n] of [
      ['deploy', 1],
      ['deploy', 2],
      ['deploy', 3],
      ['deploy', 4],
      ['drop-table', 5],
    ] as const) {
      ids.push((await propose(w, { tool, arguments: { n } })).body.id);
    }
    assert.equal((await review(w, ids[0] as string, w.keys.alice, { decision: 'approve' })).status, 200);
    assert.equal((await review(w, ids[1] as string, w.keys.carol, { decision: 'approve' })).status, 200);
    assert.equal((await review(w, ids[4] as string, w.keys.alice, { decision: 'deny', reason: 'no' })).status, 200);
  });
  after(async () => w.close());

  test('the dashboard shows the counts, approval rate, leaders and reviewer load of a known set', async () => {
    const { context, page, errors } = await newPage(browser, DESKTOP, { base, email: 'alice@example.com' });
    try {
      await page.goto(`${base}/inbox`);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Dashboard' }).click();
      await page.waitForURL((u) => u.pathname === '/dashboard');
      await page.getByTestId('stat-total').waitFor();
      assert.equal(await shown(page.getByTestId('stat-total')), '5');
      assert.equal(await shown(page.getByTestId('stat-approval-rate')), '67%');
      assert.equal(await shown(page.getByTestId('stat-denied')), '1');
      assert.equal(await shown(page.getByTestId('stat-pending')), '2');
      const tools = await shown(page.getByRole('list', { name: 'Top tools' }));
      assert.match(tools, /deploy\s+4/);
      assert.match(tools, /drop-table\s+1/);
      const reviewers = await page
        .getByTestId('reviewers')
        .locator('tbody tr')
        .evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)));
      assert.deepEqual(reviewers, [
        ['alice@example.com', '2', '1', '1'],
        ['carol@example.com', '1', '1', '0'],
      ]);
      // Every chart is an image with a title and description, and its numbers are there as a table.
      const chart = page.getByRole('img', { name: /Actions proposed per day, by outcome/ });
      await chart.waitFor();
      assert.match((await chart.getAttribute('aria-labelledby')) ?? '', /\S+ \S+/);
      await page.getByText('Actions by outcome: as a table').click();
      const table = await shown(page.locator('details.chart-table table').first());
      assert.match(table, /Approved\tExecuted\tFailed\tDenied\tExpired\tCancelled\tPending/);
      assert.match(table, /\t2\t0\t0\t1\t0\t0\t2/);
      await page.getByRole('img', { name: /time to decision per day/ }).waitFor();
      assert.deepEqual(await cspViolations(page), []);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('the last 24 hours are drawn by the hour and fit a phone', async () => {
    const { context, page, errors } = await newPage(browser, PHONE, { base, email: 'alice@example.com' });
    try {
      await page.goto(`${base}/dashboard`);
      await page.getByTestId('stat-total').waitFor();
      await page.getByLabel('Range').selectOption('24h');
      await page.waitForURL((u) => u.searchParams.get('range') === '24h');
      await page.getByRole('img', { name: /Actions proposed per hour, by outcome/ }).waitFor();
      assert.equal(await shown(page.getByTestId('stat-total')), '5');
      assert.ok((await overflowX(page)) <= 0, 'no horizontal scroll at 390 px');
      if (dialect === 'sqlite') await shootBoth(page, 'dashboard');
      assert.deepEqual(await cspViolations(page), []);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});
