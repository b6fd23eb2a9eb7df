import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import type { FakeClock } from '../src/lib/clock.js';
import { inBrowserOn, launchChromium } from './console-browser.js';
import { decideWorld } from './console-decide-world.js';
import { cspViolations, DESKTOP, newPage, PHONE, SHOTS, shown } from './console-pages.js';
import { call, propose, type World } from './helpers.js';

/** The keyboard (inbox and action page), the inbox filters kept in the URL, and the subagent chain, in Chromium. */

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => browser?.close());

inBrowserOn('postgres', 'the console by keyboard, filtered, and the subagent chain', (dialect) => {
  let w: World;
  let clock: FakeClock;
  let base: string;
  const alice = () => ({ base, email: 'alice@example.com' });
  before(async () => {
    ({ w, clock } = await decideWorld(dialect));
    base = w.gw.url;
  });
  after(async () => w.close());
  const status = async (id: string) => (await call(w, 'GET', `/v1/actions/${id}`, w.keys.agent)).body.status as string;

  test('in the inbox j and k move a visible selection, a approves it, ? shows the keys, d goes to the reason; never while typing', async () => {
    const one = (await propose(w, { tool: 'key-one', arguments: { n: 1 } })).body.id as string;
    const two = (await propose(w, { tool: 'key-two', arguments: { n: 2 } })).body.id as string;
    const { context, page, errors } = await newPage(browser, DESKTOP, alice());
    try {
      await page.goto(`${base}/inbox`);
      await page.getByRole('link', { name: /key-two/ }).waitFor();
      const selected = page.locator('li.inbox-item.selected');
      await page.keyboard.press('j');
      await page.locator(`li.selected[data-action-id="${one}"] a.inbox-link:focus`).waitFor();
      await page.keyboard.press('j');
      await page.locator(`li.selected[data-action-id="${two}"] a.inbox-link:focus`).waitFor();
      await page.keyboard.press('k');
      await page.locator(`li.selected[data-action-id="${one}"] a.inbox-link:focus`).waitFor();
      assert.equal(await selected.count(), 1);

      // Typing in a filter is text, not a command.
      const agent = page.getByLabel('Agent');
      await agent.click();
      await page.keyboard.type('ad');
      assert.equal(await agent.inputValue(), 'ad');
      assert.equal(await status(one), 'pending');
      await agent.fill('');

      await page.getByTestId('need-you').click();
      await page.keyboard.press('k');
      await page.keyboard.press('a');
      await page.getByTestId('key-said').filter({ hasText: 'Approved key-one.' }).waitFor();
      assert.equal(await status(one), 'approved');

      await page.keyboard.press('?');
      const dialog = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
      await dialog.waitFor();
      assert.match(await shown(dialog), /j\s+Select the next action/);
      if (SHOTS) await page.screenshot({ path: join(SHOTS, 'decide-keys-1440.png') });
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });

      // The approval above leaves "need you" once the list refreshes; focus two after that, not before it.
      await page.locator(`li[data-action-id="${one}"]`).waitFor({ state: 'detached' });
      await page.locator(`li[data-action-id="${two}"] a.inbox-link`).focus();
      await page.locator(`li[data-action-id="${two}"] a.inbox-link:focus`).waitFor();
      await page.keyboard.press('d');
      await page.waitForURL((u) => u.pathname === `/actions/${two}`);
      await page.locator('textarea[name="reason"]:focus').waitFor();
      // On the action page: e opens the editor, a approves (once out of the text box).
      await page.getByRole('heading', { name: 'key-two' }).click();
      await page.keyboard.press('e');
      await page.getByLabel('Arguments (JSON)').waitFor();
      await page.getByRole('button', { name: 'Cancel editing' }).click();
      await page.keyboard.press('a');
      await page.getByTestId('outcome').filter({ hasText: 'Approved by alice@example.com' }).waitFor();
      assert.equal(await status(two), 'approved');
      assert.deepEqual(await cspViolations(page), []);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('inbox filters by workflow and age live in the URL and survive a reload', async () => {
    const old = (await propose(w, { tool: 'migrate', arguments: { to: 'v41' } })).body.id as string;
    await clock.advance(30 * 60_000);
    const fresh = (await propose(w, { tool: 'migrate', arguments: { to: 'v42' } })).body.id as string;
    const other = (await propose(w, { tool: 'restart', arguments: {} })).body.id as string;
    const { context, page } = await newPage(browser, PHONE, alice());
    try {
      await page.goto(`${base}/inbox`);
      await page.locator(`li[data-action-id="${other}"]`).waitFor();
      await page.getByLabel('Workflow').fill('dba');
      await page.getByRole('combobox', { name: /^Age/ }).selectOption('15m');
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.waitForURL((u) => u.search === '?workflow=dba&older_than=15m');
      const listed = async () => page.locator('li.inbox-item').evaluateAll((els) => els.map((e) => e.getAttribute('data-action-id')));
      await page.locator(`li[data-action-id="${fresh}"]`).waitFor({ state: 'detached' });
      assert.deepEqual(await listed(), [old]);
      await page.reload();
      await page.locator(`li[data-action-id="${old}"]`).waitFor();
      assert.deepEqual(await listed(), [old]);
      assert.equal(await page.getByLabel('Workflow').inputValue(), 'dba');
      assert.equal(await page.getByRole('combobox', { name: /^Age/ }).inputValue(), '15m');
    } finally {
      await context.close();
    }
  });

  test('the subagent chain is a tree of links on the action page', async () => {
    const root = (await propose(w, { tool: 'plan-trip', arguments: {}, session_id: 'trip-1' })).body.id as string;
    const child = (await propose(w, { tool: 'research', arguments: {}, parent_id: root, session_id: 'trip-1' })).body.id as string;
    const leaf = (await propose(w, { tool: 'fetch-page', arguments: {}, parent_id: child, session_id: 'trip-1' })).body.id as string;
    await propose(w, { tool: 'summarize', arguments: {}, parent_id: root, session_id: 'trip-1' });
    const { context, page } = await newPage(browser, DESKTOP, alice());
    try {
      await page.goto(`${base}/actions/${leaf}`);
      const chain = page.getByRole('navigation', { name: 'Subagent chain' });
      await chain.waitFor();
      assert.equal(
        (await shown(chain.locator('ul').first())).replace(/\s+/g, ' ').trim(),
        'plan-trip pending research pending fetch-page (this action) pending summarize pending',
      );
      await chain.getByRole('link', { name: 'research' }).click();
      await page.waitForURL((u) => u.pathname === `/actions/${child}`);
      await page.getByRole('navigation', { name: 'Subagent chain' }).getByText('research (this action)').waitFor();
    } finally {
      await context.close();
    }
  });
});
