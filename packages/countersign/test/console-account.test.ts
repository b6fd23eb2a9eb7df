import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { FakeClock } from '../src/lib/clock.js';
import { inBrowserOn, launchChromium } from './console-browser.js';
import { cspViolations, DESKTOP, overflowX, type PageGlobals, PHONE, SHOTS, shown } from './console-pages.js';
import { call } from './helpers.js';
import { newTab, type PasskeyWorld, passkeyWorld, passwordStep, type Tab } from './passkey-helpers.js';
import { PASSWORD } from './session-helpers.js';

/**
 * The Account page (/account) in a real Chromium with a virtual authenticator, against a gateway at
 * http://localhost:<port>: ending another session of mine, adding / renaming / removing a passkey (with the
 * re-authentication removal asks for, in place), giving my vote to someone and taking it back.
 */

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => browser?.close());

async function shoot(page: Page, name: string, viewport: { width: number; height: number }) {
  if (!SHOTS) return;
  await page.setViewportSize(viewport);
  await page.evaluate('window.scrollTo(0, 0)');
  await page.screenshot({ path: join(SHOTS, name), fullPage: false });
}

/** A second session of `email`, opened by another program (curl), as its cookie header. */
async function otherSession(origin: string, email: string): Promise<string> {
  const res = await fetch(`${origin}/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin, 'user-agent': 'curl/8.5.0' },
    body: JSON.stringify({ email, password: PASSWORD }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return res.headers
    .getSetCookie()
    .map((line) => line.split(';')[0])
    .join('; ');
}

const meWith = async (origin: string, cookie: string) => (await fetch(`${origin}/v1/me`, { headers: { cookie } })).status;

/** `datetime-local`'s value for an instant, in this machine's zone (the browser's too). */
function localInput(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

inBrowserOn('postgres', 'the Account page in Chromium', (dialect) => {
  let w: PasskeyWorld;
  let tab: Tab;
  // At the browser's own time, so "2 minutes ago" reads as in use; the gateway's time moves only with the test.
  const clock = new FakeClock(Math.floor(Date.now() / 60_000) * 60_000);
  before(async () => {
    w = await passkeyWorld(dialect, clock);
    tab = await newTab(browser, w);
    await tab.context.addInitScript(() => {
      const win = globalThis as unknown as PageGlobals;
      win.__csp = [];
      win.document.addEventListener('securitypolicyviolation', (e) => win.__csp?.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    await tab.page.setViewportSize(DESKTOP);
    const signedIn = await passwordStep(tab, 'alice@example.com');
    assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
  });
  after(async () => {
    await tab?.context.close();
    await w?.close();
  });

  test('a person ends another session of theirs from the Account page and it stops working at once', async () => {
    const other = await otherSession(w.origin, 'alice@example.com');
    assert.equal(await meWith(w.origin, other), 200);
    await tab.page.goto(`${w.origin}/inbox`);
    await tab.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Account' }).click();
    await tab.page.getByRole('heading', { name: 'Your account' }).waitFor();
    const sessions = tab.page.getByTestId('sessions').locator('li');
    // This browser's, curl's, and the one the set-up link opened (passkeyWorld gives alice her password that way).
    await sessions.nth(2).waitFor();
    assert.equal(await sessions.count(), 3);
    const current = sessions.filter({ has: tab.page.getByText('This session', { exact: true }) });
    assert.equal(await current.count(), 1, 'the session of this page is marked');
    const curl = sessions.filter({ hasText: 'curl' });
    assert.match(await shown(curl), /Signed in with a password .+ · last seen .+ · from 127\.0\.0\.1/);
    await curl.getByRole('button', { name: 'End this session' }).click();
    await curl.getByRole('group', { name: /^End the session “curl, signed in .+”\?/ }).waitFor();
    await curl.getByRole('button', { name: 'End session on curl' }).click();
    await tab.page.getByTestId('sessions').locator('li').filter({ hasText: 'curl' }).waitFor({ state: 'detached' });
    assert.equal(await meWith(w.origin, other), 401, 'the ended session is refused on its next request');
    assert.equal(await tab.page.getByTestId('sessions').locator('li').count(), 2);
  });

  test('a person adds a passkey with the browser’s authenticator, renames it, and removes it after confirming in place', async () => {
    await tab.page.getByLabel('Name for a new passkey').fill('Laptop');
    await tab.page.getByRole('button', { name: 'Add a passkey' }).click();
    const passkeys = tab.page.getByTestId('passkeys').locator('li');
    await passkeys.filter({ hasText: 'Laptop' }).waitFor();
    assert.match(await shown(tab.page.getByRole('status')), /Passkey “Laptop” added/);
    const added = await call(w, 'GET', '/v1/admin/users/alice@example.com/passkeys', w.keys.ada);
    assert.deepEqual(
      added.body.items.map((p: { name: string }) => p.name),
      ['Laptop'],
    );

    await passkeys.getByRole('button', { name: 'Rename' }).click();
    await tab.page.getByLabel('New name for “Laptop”').fill('Work laptop');
    await tab.page.getByRole('button', { name: 'Save name' }).click();
    await passkeys.filter({ hasText: 'Work laptop' }).waitFor();

    // Past auth.passkeys.recent_sign_in (10 minutes): removing now needs the person to confirm it is them.
    await clock.advance(11 * 60_000);
    await passkeys.getByRole('button', { name: 'Remove' }).click();
    await tab.page.getByRole('button', { name: 'Remove “Work laptop”' }).click();
    const panel = tab.page.getByTestId('reauth-panel');
    await panel.waitFor();
    assert.match(await shown(panel), /removing the passkey “Work laptop” you must have signed in within the last few minutes/);
    const still = await call(w, 'GET', '/v1/admin/users/alice@example.com/passkeys', w.keys.ada);
    assert.equal(still.body.items.length, 1, 'nothing was removed before the confirmation');
    await panel.getByRole('button', { name: 'Confirm with your passkey' }).click();
    await tab.page.getByText('You have no passkey yet.').waitFor();
    assert.match(await shown(tab.page.getByRole('status')), /Passkey “Work laptop” removed; you have none left/);
    const gone = await call(w, 'GET', '/v1/admin/users/alice@example.com/passkeys', w.keys.ada);
    assert.deepEqual(gone.body.items, []);
  });

  test('a person gives their vote to someone until a date, sees the votes given to them, and ends the delegation', async () => {
    const given = await call(w, 'POST', '/v1/admin/delegations', w.keys.ada, {
      delegator: 'bob@example.com',
      delegate: 'alice@example.com',
      ends_at: new Date(clock.now() + 3 * 24 * 3600_000).toISOString(),
      reason: 'conference',
    });
    assert.equal(given.status, 201, JSON.stringify(given.body));
    await tab.page.reload();
    await tab.page.getByTestId('held').filter({ hasText: 'bob@example.com' }).waitFor();
    assert.match(await shown(tab.page.getByTestId('held')), /You can vote for them until .*conference/);

    await tab.page.getByLabel('Who may vote for me (email)').fill('carol@example.com');
    await tab.page.getByLabel('Until').fill(localInput(clock.now() + 7 * 24 * 3600_000));
    await tab.page.getByLabel('Reason (shown to them)').fill('on leave <b>back soon</b>');
    await tab.page.getByRole('button', { name: 'Give my vote' }).click();
    const card = tab.page.getByTestId('given').locator('li').filter({ hasText: 'carol@example.com' });
    await card.waitFor();
    assert.match(await shown(card), /active/);
    assert.match(await shown(card), /on leave <b>back soon<\/b>/, 'the reason is text');
    const carol = await call(w, 'GET', '/v1/me/delegations', w.keys.carol);
    assert.deepEqual(
      carol.body.held.map((d: { delegator: { email: string }; state: string }) => [d.delegator.email, d.state]),
      [['alice@example.com', 'active']],
    );

    await shoot(tab.page, 'account-1440.png', DESKTOP);
    await tab.page.setViewportSize(PHONE);
    assert.ok((await overflowX(tab.page)) <= 0, 'no horizontal scroll on a phone');
    await shoot(tab.page, 'account-390.png', PHONE);
    await tab.page.setViewportSize(DESKTOP);

    await card.getByRole('button', { name: 'End now' }).click();
    await card.getByRole('button', { name: 'End delegation to carol@example.com' }).click();
    await card.getByText('revoked', { exact: true }).waitFor();
    const after = await call(w, 'GET', '/v1/me/delegations', w.keys.carol);
    assert.equal(after.body.held[0].state, 'revoked');
    assert.deepEqual(after.body.acting_for, []);
    assert.deepEqual(await cspViolations(tab.page), [], 'no Content-Security-Policy violation');
  });

  test('ending the session of this page signs the person out', async () => {
    await tab.page.getByTestId('sessions').locator('li').getByRole('button', { name: 'Sign out here' }).click();
    await tab.page.getByTestId('sessions').getByRole('button', { name: 'Sign out', exact: true }).click();
    await tab.page.waitForURL((u) => u.pathname === '/sign-in');
    assert.equal(new URL(tab.page.url()).searchParams.get('return_to'), '/account');
    const me = await tab.page.evaluate(() => fetch('/v1/me').then((r) => r.status));
    assert.equal(me, 401);
  });
});
