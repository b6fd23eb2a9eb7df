import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { personOfChatAccount } from '../src/domain/identities/chat-links/chat-account.js';
import { requestChatLink } from '../src/domain/identities/chat-links/request-chat-link.js';
import { FakeClock } from '../src/lib/clock.js';
import { inBrowserOn, launchChromium } from './console-browser.js';
import { DESKTOP, PHONE, SHOTS, shown, signIn } from './console-pages.js';
import { auditRows } from './helpers.js';
import { newTab, type PasskeyWorld, passkeyWorld, type Tab } from './passkey-helpers.js';

/**
 * The /link-chat page in a real Chromium: a Slack "link your account" link opened signed out goes through
 * sign-in and back with its token (kept out of the address bar), asks before linking, links on Confirm;
 * the Account page lists the link and unlinks it; Cancel links nothing.
 */

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => browser?.close());

inBrowserOn('sqlite', 'the /link-chat page in Chromium', (dialect) => {
  let w: PasskeyWorld;
  let tab: Tab;
  const clock = new FakeClock(Math.floor(Date.now() / 60_000) * 60_000);
  const account = (user: string, display: string) => ({ platform: 'slack' as const, workspace: 'T0BROWSER', user, display });
  before(async () => {
    w = await passkeyWorld(dialect, clock);
    tab = await newTab(browser, w);
  });
  after(async () => {
    await tab?.context.close();
    await w?.close();
  });

  describe('linking a Slack account from its link', () => {
    it('signs in first, comes back with the token out of the address bar, asks, and links on Confirm', async () => {
      const { url } = await requestChatLink(w.gw.deps, account('U0BROWSER', '@alice\u202e<b>x</b>'));
      assert.ok(url.startsWith(`${w.origin}/link-chat#token=`));
      await tab.page.goto(url);
      await tab.page.waitForURL((u) => u.pathname === '/sign-in');
      assert.equal(new URL(tab.page.url()).searchParams.get('return_to'), '/link-chat');
      assert.doesNotMatch(tab.page.url(), /token/, 'the token is not in the address');
      await signIn(tab.page, 'alice@example.com');
      await tab.page.waitForURL((u) => u.pathname === '/link-chat');
      const question = tab.page.locator('.link-chat-question');
      await question.waitFor();
      const text = await shown(question);
      assert.match(text, /Link Slack account/);
      assert.match(text, /T0BROWSER/);
      assert.match(text, /alice@example\.com/);
      assert.match(text, /U\+202E/, 'the hidden character is shown');
      assert.match(text, /<b>x<\/b>/, 'markup in the chat name is drawn as text');
      assert.equal(await tab.page.locator('.link-chat-question b').count(), 0);
      assert.equal(new URL(tab.page.url()).hash, '');
      if (SHOTS) {
        for (const [name, size] of [
          ['desktop', DESKTOP],
          ['phone', PHONE],
        ] as const) {
          await tab.page.setViewportSize(size);
          await tab.page.screenshot({ path: join(SHOTS, `link-chat-${name}.png`), fullPage: true });
        }
        await tab.page.setViewportSize(DESKTOP);
      }
      await tab.page.getByRole('button', { name: 'Confirm' }).click();
      await tab.page.getByRole('status').filter({ hasText: 'Linked' }).waitFor();
      const slack = account('U0BROWSER', '');
      assert.equal((await personOfChatAccount(w.gw.deps.db.read, slack))?.email, 'alice@example.com');
      assert.ok((await auditRows(w)).some((r) => r.event === 'chat_account.linked'));
      assert.equal(await tab.page.evaluate('sessionStorage.length'), 0, 'the token is forgotten once used');
    });

    it('lists the linked account on /account and unlinks it there', async () => {
      await tab.page.goto(`${w.origin}/account`);
      const item = tab.page.getByTestId('chat-links').locator('li');
      await item.first().waitFor();
      assert.match(await shown(item.first()), /U0BROWSER/);
      if (SHOTS) await item.first().screenshot({ path: join(SHOTS, 'account-chat-link.png') });
      await item.first().getByRole('button', { name: 'Unlink' }).click();
      await tab.page.getByRole('button', { name: 'Unlink U0BROWSER' }).click();
      await tab.page.getByText('No chat accounts are linked to you.').waitFor();
      assert.equal(await personOfChatAccount(w.gw.deps.db.read, account('U0BROWSER', '')), null);
    });

    it('links nothing on Cancel', async () => {
      const { url } = await requestChatLink(w.gw.deps, account('U0CANCEL', 'someone'));
      await tab.page.goto(url);
      await tab.page.locator('.link-chat-question').waitFor();
      await tab.page.getByRole('button', { name: 'Cancel' }).click();
      await tab.page.getByText('Nothing was linked.').waitFor();
      assert.equal(await personOfChatAccount(w.gw.deps.db.read, account('U0CANCEL', '')), null);
      await tab.page.goto(`${w.origin}/link-chat`);
      await tab.page.getByText('There is no chat link to confirm in this tab.').waitFor();
    });
  });
});
