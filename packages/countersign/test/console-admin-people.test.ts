import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { inBrowserOn, launchChromium } from './console-browser.js';
import { consoleWorld, cspViolations, DESKTOP, newPage, overflowX, PHONE, SHOTS, shown } from './console-pages.js';
import { call, propose, review, type World } from './helpers.js';
import { PASSWORD, tokenOf, withPassword } from './session-helpers.js';

/**
 * The administration pages in a real Chromium against a real gateway, on both databases: an admin adds a
 * person and disables them (their session ends), registers an agent (its key shown once), revokes a key and
 * a standing grant; a reviewer sees none of it and the API refuses them anyway.
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

/** Redeems a reset link as its recipient's browser would: the session's cookie header. */
async function redeemLink(base: string, url: string): Promise<string> {
  const res = await fetch(`${base}/v1/auth/reset-password`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: base },
    body: JSON.stringify({ token: tokenOf(url), password: PASSWORD }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return res.headers
    .getSetCookie()
    .map((line) => line.split(';')[0])
    .join('; ');
}

const status = async (base: string, headers: Record<string, string>) => (await fetch(`${base}/v1/me`, { headers })).status;

inBrowserOn('postgres', 'the administration pages in Chromium', (dialect) => {
  let w: World;
  let base: string;
  let page: Page;
  let close: () => Promise<void>;
  before(async () => {
    w = await consoleWorld(dialect);
    base = w.gw.url;
    await withPassword(w, 'ada@example.com');
    const opened = await newPage(browser, DESKTOP, { base, email: 'ada@example.com' });
    page = opened.page;
    close = () => opened.context.close();
  });
  after(async () => {
    await close?.();
    await w?.close();
  });

  test('an admin adds a person, changes their role, and disabling them ends their session at once', async () => {
    await page.goto(`${base}/inbox`);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Administration' }).click();
    await page.getByRole('heading', { name: 'People' }).waitFor();
    await page.getByLabel('Email').fill('erin@example.com');
    await page.getByLabel('Name (optional)').fill('Erin');
    await page.getByLabel('Groups (comma-separated)', { exact: true }).fill('sre, on-call');
    await page.getByRole('button', { name: 'Add person' }).click();
    const erin = page.locator('[data-person="erin@example.com"]');
    await erin.waitFor();
    assert.match(await shown(erin), /reviewer/);
    assert.match(await shown(erin), /Groups: on-call, sre|Groups: sre, on-call/);

    // A password-reset link, shown once: erin sets her password with it and is signed in.
    await erin.getByRole('button', { name: 'Password-reset link' }).click();
    const secret = erin.getByTestId('secret');
    await secret.waitFor();
    const erinSession = await redeemLink(base, await shown(secret));
    await erin.getByRole('button', { name: 'Done' }).click();
    await secret.waitFor({ state: 'detached' });
    assert.equal(await status(base, { cookie: erinSession }), 200);

    await erin.getByLabel('Role of erin@example.com').selectOption('viewer');
    await erin.getByRole('button', { name: 'Change role' }).click();
    await erin.getByRole('status').filter({ hasText: 'erin@example.com is now viewer.' }).waitFor();
    const listed = await call(w, 'GET', '/v1/admin/users', w.keys.ada);
    assert.equal(listed.body.items.find((p: { email: string }) => p.email === 'erin@example.com').role, 'viewer');

    await shoot(page, 'admin-people-1440.png', DESKTOP);
    await page.setViewportSize(PHONE);
    assert.ok((await overflowX(page)) <= 0, 'no horizontal scroll on a phone');
    await shoot(page, 'admin-people-390.png', PHONE);
    await page.setViewportSize(DESKTOP);

    await erin.getByRole('button', { name: 'Disable' }).click();
    await erin.getByRole('group', { name: /^Disable erin@example\.com\?/ }).waitFor();
    await erin.getByRole('button', { name: 'Disable erin@example.com' }).click();
    await erin.getByText('disabled', { exact: true }).waitFor();
    assert.equal(await status(base, { cookie: erinSession }), 401, 'her session is refused on its next request');
  });

  test('the last admin cannot be disabled, and the page says why in words', async () => {
    const ada = page.locator('[data-person="ada@example.com"]');
    await ada.getByRole('button', { name: 'Disable' }).click();
    await ada.getByRole('button', { name: 'Disable ada@example.com' }).click();
    const alert = ada.getByRole('alert');
    await alert.waitFor();
    assert.match(await shown(alert), /last.*admin/i);
  });

  test('an admin sees a person’s linked SSO account and unlinks it after confirming', async () => {
    const linked = await call(w, 'POST', '/v1/admin/users/carol@example.com/identities', w.keys.ada, {
      issuer: 'https://idp.example.com',
      subject: 'carol-sub-42',
    });
    assert.equal(linked.status, 201, JSON.stringify(linked.body));
    await page.reload();
    const carol = page.locator('[data-person="carol@example.com"]');
    const sso = carol.getByRole('list', { name: 'Single sign-on accounts of carol@example.com' });
    await sso.waitFor();
    assert.match(await shown(sso), /SSO carol-sub-42 at https:\/\/idp\.example\.com · never signed in/);
    await sso.getByRole('button', { name: 'Unlink' }).click();
    await carol
      .getByRole('group', { name: /^Unlink the SSO account carol-sub-42 \(https:\/\/idp\.example\.com\) from carol@example\.com\?/ })
      .waitFor();
    await carol.getByRole('button', { name: 'Unlink carol-sub-42' }).click();
    await sso.waitFor({ state: 'detached' });
    const left = await call(w, 'GET', '/v1/admin/users/carol@example.com/identities', w.keys.ada);
    assert.deepEqual(left.body.items, []);
  });

  test('an admin registers an agent whose key is shown once and works, then revokes that key', async () => {
    await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Agents' }).click();
    await page.getByRole('heading', { name: 'Agents' }).waitFor();
    assert.match(await shown(page.locator('[data-agent="deployer"]')), /Owner bob@example\.com/);
    await page.getByLabel('Name', { exact: true }).fill('builder');
    await page.getByLabel('Owner (a person’s email)').fill('bob@example.com');
    await page.getByRole('button', { name: 'Register agent' }).click();
    const secret = page.getByTestId('secret');
    await secret.waitFor();
    const key = await shown(secret);
    assert.equal(await status(base, { authorization: `Bearer ${key}` }), 200, 'the key works');
    await page.getByRole('button', { name: 'Done' }).click();
    await secret.waitFor({ state: 'detached' });
    await page.reload();
    await page.locator('[data-agent="builder"]').waitFor();
    assert.ok(!(await page.content()).includes(key), 'the key is not shown again');

    await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'API keys' }).click();
    const card = page.locator('li[data-key]').filter({ hasText: 'builder' });
    await card.waitFor();
    const prefix = (await card.getAttribute('data-key')) as string;
    assert.ok(key.startsWith(prefix), `${prefix} is the key's public prefix`);
    assert.match(await shown(card), /last used (just now|\d+ minutes? ago)/, 'the check above used it');
    await card.getByRole('button', { name: 'Revoke' }).click();
    await card.getByRole('group', { name: new RegExp(`^Revoke key ${prefix} of agent builder\\?`) }).waitFor();
    await card.getByRole('button', { name: `Revoke ${prefix}` }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `Key ${prefix} of agent builder is revoked` })
      .waitFor();
    assert.equal(await status(base, { authorization: `Bearer ${key}` }), 401, 'the key is refused at once');
  });

  test('an admin revokes a standing grant seen with its scope, uses and expiry in words', async () => {
    const { body: a } = await propose(w, { tool: 'restart', arguments: { service: 'web' } });
    const r = await review(w, a.id, w.keys.alice, { decision: 'approve', grant: { expires_in: '2h', max_uses: 3 } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Standing grants' }).click();
    const card = page.locator('li[data-grant]');
    await card.waitFor();
    const text = await shown(card);
    assert.match(text, /Approves restart by deployer in any session with the arguments \{"service":"web"\}/);
    assert.match(text, /0 of 3 uses · expires in 2 hours · granted by alice@example\.com/);
    await card.getByRole('button', { name: 'Revoke' }).click();
    await card.getByRole('button', { name: 'Revoke grant of deployer' }).click();
    await page.getByText('No grant in force.').waitFor();
    const grants = await call(w, 'GET', '/v1/grants', w.keys.ada);
    assert.deepEqual(
      grants.body.items.map((g: { active: boolean; revoked_by: string | null }) => [g.active, g.revoked_by]),
      [[false, 'ada@example.com']],
    );
    assert.deepEqual(await cspViolations(page), [], 'no Content-Security-Policy violation');
  });

  test('a reviewer sees no administration link, gets an “Admins only” page, and the API refuses them anyway', async () => {
    const alice = await newPage(browser, DESKTOP, { base, email: 'alice@example.com' });
    try {
      await alice.page.goto(`${base}/admin/people`);
      await alice.page.getByRole('heading', { name: 'Admins only' }).waitFor();
      assert.equal(await alice.page.getByRole('link', { name: 'Administration' }).count(), 0);
      assert.equal(await alice.page.getByRole('link', { name: 'Account' }).count(), 1);
      const refused = await alice.page.evaluate(async () => {
        const csrf = /cs_csrf=([^;]+)/.exec((globalThis as unknown as { document: { cookie: string } }).document.cookie)?.[1] ?? '';
        const list = await fetch('/v1/admin/users');
        const revoke = await fetch('/v1/admin/keys/whatever/revoke', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
          body: '{}',
        });
        return [list.status, revoke.status];
      });
      assert.deepEqual(refused, [403, 403]);
      assert.equal((await call(w, 'GET', '/v1/admin/agents', w.keys.alice)).status, 403);
    } finally {
      await alice.context.close();
    }
  });
});
