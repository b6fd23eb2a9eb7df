import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import { FakeClock } from '../src/lib/clock.js';
import { inBrowserOn, launchChromium } from './console-browser.js';
import { DESKTOP, PHONE, SHOTS, shown, signIn } from './console-pages.js';
import { addPeople, auditRows, call, propose, withPolicy } from './helpers.js';
import { newTab, type PasskeyWorld, passkeyWorld, signInAndRegister } from './passkey-helpers.js';
import { PASSWORD, withPassword } from './session-helpers.js';

/**
 * The console meets the people features in a real Chromium with a virtual authenticator (CDP), against a
 * gateway at http://localhost:<port>: signing in with a password then a passkey, step-up in place, and
 * voting for someone through a delegation.
 */

const POLICY = `
policy:
  default: review
  rules:
    - { name: prod-deploys, when: 'tool == "deploy" && arguments.env == "production"', effect: review, workflow: risky }
    - { name: sre-only, when: 'tool == "page-oncall"', effect: review, workflow: sre }
workflows:
  default:
    stages:
      - approvers: { roles: [reviewer] }
  risky:
    stages:
      - name: sign-off
        approvers: { roles: [reviewer] }
        step_up: { max_age: 5m }
  sre:
    stages:
      - approvers: { groups: [sre] }
`;

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => browser?.close());

async function shoot(page: Page, name: string, viewport: { width: number; height: number }, show?: Locator) {
  if (!SHOTS) return;
  await page.setViewportSize(viewport);
  await show?.scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(SHOTS, name), fullPage: false });
}

inBrowserOn('postgres', 'the console with passkeys, step-up and delegation, in Chromium', (dialect) => {
  let w: PasskeyWorld;
  // Started at the browser's own time, so the page's countdowns (browser time) read as they would in use;
  // the gateway's time is still only moved by the test.
  const clock = new FakeClock(Math.floor(Date.now() / 60_000) * 60_000);
  before(async () => {
    w = await passkeyWorld(dialect, clock, withPolicy(POLICY));
  });
  after(async () => w.close());

  test('a person with a passkey signs in with password then passkey and lands on the deep-linked action', async () => {
    const tab = await newTab(browser, w);
    try {
      await signInAndRegister(tab, 'alice@example.com');
      await tab.context.clearCookies();
      const { body: a } = await propose(w, { tool: 'restart', arguments: { service: 'web' }, purpose: 'stuck workers' });
      await tab.page.goto(`${w.origin}/actions/${a.id}`);
      await tab.page.waitForURL((u) => u.pathname === '/sign-in');
      await signIn(tab.page, 'alice@example.com');
      // The password was right: the page runs the passkey ceremony (the virtual authenticator answers) and goes on.
      await tab.page.waitForURL((u) => u.pathname === `/actions/${a.id}`);
      await tab.page.getByRole('heading', { name: 'restart' }).waitFor();
      assert.match(await shown(tab.page.locator('main')), /stuck workers/);
      const signedIn = (await auditRows(w)).filter((e) => e.event === 'session.created').map((e) => JSON.parse(e.data));
      assert.equal(signedIn.at(-1)?.method, 'passkey', JSON.stringify(signedIn.at(-1)));
    } finally {
      await tab.context.close();
    }
  });

  test('a refused passkey is said in words and the password is asked again', async () => {
    const tab = await newTab(browser, w);
    try {
      await signInAndRegister(tab, 'bob@example.com');
      await tab.context.clearCookies();
      // This browser's authenticator forgets the passkey: the ceremony finds none and is refused.
      await tab.authenticator.cdp.send('WebAuthn.clearCredentials', { authenticatorId: tab.authenticator.id });
      await tab.page.goto(`${w.origin}/sign-in`);
      await signIn(tab.page, 'bob@example.com');
      const alert = tab.page.getByRole('alert');
      await alert.waitFor();
      assert.match(await shown(alert), /cancelled or timed out|could not use a passkey|refused/);
      assert.equal(new URL(tab.page.url()).pathname, '/sign-in');
      assert.equal(
        (await tab.context.cookies()).find((c) => c.name === 'cs_session'),
        undefined,
        'no session was opened',
      );
    } finally {
      await tab.context.close();
    }
  });

  test('a step-up approval is refused, confirmed with the passkey in place, and approved; the audit shows step-up met', async () => {
    const tab = await newTab(browser, w);
    try {
      await withPassword(w, 'carol@example.com', PASSWORD, w.origin);
      await signInAndRegister(tab, 'carol@example.com');
      // Past the 5 minutes of the stage: the session (opened with a password) has no fresh strong sign-in.
      await clock.advance(6 * 60_000);
      const { body: a } = await propose(w, { tool: 'deploy', arguments: { env: 'production' }, purpose: 'release 2.0' });
      await tab.page.setViewportSize(DESKTOP);
      await tab.page.goto(`${w.origin}/actions/${a.id}`);
      const notice = tab.page.getByTestId('step-up-notice');
      await notice.waitFor();
      assert.match(await shown(notice), /This stage needs you to have signed in strongly within the last 5 minutes/);
      await tab.page.getByRole('button', { name: 'Approve' }).click();
      const panel = tab.page.getByTestId('step-up-panel');
      await panel.waitFor();
      assert.match(await shown(panel), /within the last 5 minutes/);
      assert.equal((await call(w, 'GET', `/v1/actions/${a.id}`, w.keys.ada)).body.status, 'pending', 'nothing was voted');
      await shoot(tab.page, 'step-up-1440.png', DESKTOP);
      await shoot(tab.page, 'step-up-390.png', PHONE, panel);
      await tab.page.getByRole('button', { name: 'Confirm with your passkey' }).click();
      await tab.page.getByTestId('status').filter({ hasText: 'approved' }).waitFor();
      const reviewed = (await auditRows(w, a.id)).filter((e) => e.event === 'action.reviewed').map((e) => JSON.parse(e.data));
      assert.equal(reviewed.length, 1);
      assert.equal(reviewed[0].step_up.max_age_ms, 300_000, JSON.stringify(reviewed[0]));
      assert.equal(reviewed[0].step_up.strong_at, clock.now(), 'the re-authentication just now is what met it');
      const reauth = (await auditRows(w)).filter((e) => e.event === 'session.reauthenticated');
      assert.equal(reauth.length, 1);
    } finally {
      await tab.context.close();
    }
  });

  test('a delegate sees the delegator’s action in the inbox marked for her, votes for her, and the review shows X for Y', async () => {
    await addPeople(w, [{ email: 'yara@example.com', groups: ['sre'] }, { email: 'dana@example.com' }]);
    await withPassword(w, 'dana@example.com', PASSWORD, w.origin);
    const d = await call(w, 'POST', '/v1/admin/delegations', w.keys.ada, {
      delegator: 'yara@example.com',
      delegate: 'dana@example.com',
      ends_at: new Date(clock.now() + 20 * 24 * 3600_000).toISOString(),
      reason: 'on leave',
    });
    assert.equal(d.status, 201, JSON.stringify(d.body));
    const { body: a } = await propose(w, { tool: 'page-oncall', arguments: { team: 'db' }, purpose: 'disk full on db-3' });
    const tab = await newTab(browser, w);
    try {
      await tab.page.setViewportSize(DESKTOP);
      await tab.page.goto(`${w.origin}/inbox`);
      await tab.page.waitForURL((u) => u.pathname === '/sign-in');
      await signIn(tab.page, 'dana@example.com');
      const banner = tab.page.getByTestId('acting-for');
      await banner.waitFor();
      assert.match(await shown(banner), /You can vote for yara@example\.com until \d{1,2} [A-Z][a-z]{2}/);
      const item = tab.page.locator(`[data-action-id="${a.id}"]`);
      await item.waitFor();
      assert.match(await shown(item.getByTestId('vote-for')), /You can vote for yara@example\.com/);
      assert.equal(await tab.page.locator('#mine ~ ul').locator(`[data-action-id="${a.id}"]`).count(), 1, 'among those I can decide');
      await shoot(tab.page, 'delegation-1440.png', DESKTOP);
      await shoot(tab.page, 'delegation-390.png', PHONE);
      await tab.page.setViewportSize(DESKTOP);
      await item.getByRole('link').first().click();
      await tab.page.waitForURL((u) => u.pathname === `/actions/${a.id}`);
      const forYara = tab.page.getByRole('radio', { name: 'for yara@example.com' });
      await forYara.waitFor();
      assert.equal(await forYara.isChecked(), true, 'not an approver herself, her only vote here is yara’s');
      assert.equal(await tab.page.getByRole('radio', { name: /myself/ }).isDisabled(), true);
      await tab.page.getByRole('button', { name: 'Approve for yara@example.com' }).click();
      await tab.page.getByTestId('status').filter({ hasText: 'approved' }).waitFor();
      assert.match(await shown(tab.page.locator('.votes')), /dana@example\.com for yara@example\.com approved via web/);
      const [entry] = (await auditRows(w, a.id)).filter((e) => e.event === 'action.reviewed').map((e) => JSON.parse(e.data));
      assert.deepEqual([entry.reviewer, entry.for, entry.delegation_id], ['dana@example.com', 'yara@example.com', d.body.id]);
    } finally {
      await tab.context.close();
    }
  });
});
