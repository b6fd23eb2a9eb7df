import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { inBrowserOn, launchChromium } from './console-browser.js';
import { decideWorld } from './console-decide-world.js';
import { cspViolations, DESKTOP, newPage, overflowX, PHONE, shown } from './console-pages.js';
import { call, type World } from './helpers.js';

/** Batch decisions in Chromium: actions an agent proposed together, decided at once from the inbox or an action. */

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => browser?.close());

inBrowserOn('postgres', 'batch decisions in the console', (dialect) => {
  let w: World;
  let base: string;
  const alice = () => ({ base, email: 'alice@example.com' });
  before(async () => {
    ({ w } = await decideWorld(dialect));
    base = w.gw.url;
  });
  after(async () => w.close());

  const proposeBatch = async (tool: string, services: string[]) => {
    const r = await call(w, 'POST', '/v1/actions/batch', w.keys.agent, {
      actions: services.map((service) => ({ tool, arguments: { service } })),
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body as { batch_id: string; actions: { id: string }[] };
  };
  const statuses = async (batchId: string) =>
    ((await call(w, 'GET', `/v1/batches/${batchId}`, w.keys.agent)).body.actions as { status: string; reason: string | null }[]).map(
      (a) => [a.status, a.reason],
    );

  test('from the inbox, every call of a batch is shown and approved at once', async () => {
    const b = await proposeBatch('restart', ['web', 'api', 'worker']);
    const { context, page, errors } = await newPage(browser, DESKTOP, alice());
    try {
      await page.goto(`${base}/inbox`);
      const item = page.locator(`li[data-action-id="${b.actions[0]?.id}"]`);
      await item.getByRole('button', { name: 'Decide the whole batch…' }).click();
      const panel = item.getByTestId('batch');
      await panel.getByRole('heading', { name: 'Proposed together: 3 calls, 3 pending' }).waitFor();
      await panel.locator('.batch-calls > li').nth(1).locator('summary').first().click();
      assert.match(await shown(panel), /"api"/);
      await panel.getByRole('button', { name: 'Approve all 3 pending' }).click();
      await panel.getByTestId('batch-result').filter({ hasText: '3 of 3 votes recorded.' }).waitFor();
      assert.deepEqual(await statuses(b.batch_id), [
        ['approved', null],
        ['approved', null],
        ['approved', null],
      ]);
      assert.deepEqual(await cspViolations(page), []);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('on an action of a batch, the whole batch is denied with one reason', async () => {
    const b = await proposeBatch('restart', ['db', 'cache']);
    const { context, page } = await newPage(browser, PHONE, alice());
    try {
      await page.goto(`${base}/actions/${b.actions[1]?.id}`);
      const panel = page.getByTestId('batch');
      await panel.getByRole('heading', { name: 'Proposed together: 2 calls, 2 pending' }).waitFor();
      assert.match(await shown(panel), /restart \(this action\)/);
      await panel.getByLabel('Reason for denying the whole batch').fill('restart them one at a time');
      await panel.getByRole('button', { name: 'Deny all 2 pending' }).click();
      await panel.getByTestId('batch-result').filter({ hasText: '2 of 2 votes recorded.' }).waitFor();
      await page.getByTestId('outcome').filter({ hasText: 'Denied by alice@example.com' }).waitFor();
      assert.deepEqual(await statuses(b.batch_id), [
        ['denied', 'restart them one at a time'],
        ['denied', 'restart them one at a time'],
      ]);
      assert.ok((await overflowX(page)) <= 0, 'no horizontal scroll on a phone');
    } finally {
      await context.close();
    }
  });

  test('a batch approval refused for a step-up is said in words, and nothing is decided', async () => {
    const b = await proposeBatch('deploy-prod', ['web', 'api']);
    const { context, page } = await newPage(browser, DESKTOP, alice());
    try {
      await page.goto(`${base}/actions/${b.actions[0]?.id}`);
      const panel = page.getByTestId('batch');
      await panel.getByRole('button', { name: 'Approve all 2 pending' }).click();
      const alert = panel.getByRole('alert');
      await alert.waitFor();
      assert.equal(
        await shown(alert),
        'Nothing was decided. This stage needs you to have signed in strongly within the last 5 minutes: open one of the actions and confirm it is you, then decide the batch again.',
      );
      assert.deepEqual(await statuses(b.batch_id), [
        ['pending', null],
        ['pending', null],
      ]);
    } finally {
      await context.close();
    }
  });
});
