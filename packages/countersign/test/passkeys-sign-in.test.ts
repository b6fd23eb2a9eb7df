import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { disableUser } from '../src/domain/identities/disable-user.js';
import { issueResetLink } from '../src/domain/identities/links/issue-reset-link.js';
import { FakeClock } from '../src/lib/clock.js';
import { createCredential, getAssertion, launchChromium, pageFetch } from './browser.js';
import { inBrowserOn } from './console-browser.js';
import { ADMIN, auditRows } from './helpers.js';
import {
  newTab,
  type PasskeyWorld,
  passkeyWorld,
  passwordStep,
  signInAndRegister,
  signInWithPasskey,
  type Tab,
} from './passkey-helpers.js';
import { tokenOf } from './session-helpers.js';

/**
 * Passkeys as the second factor of a local account, in real Chromium with a virtual authenticator (the
 * DevTools WebAuthn domain): the page runs navigator.credentials.create()/get() as the console does.
 */
let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

const data = (r: { data: string }) => JSON.parse(r.data);

inBrowserOn('sqlite', 'passkeys at sign-in, in a real browser', (dialect) => {
  const open: { w: PasskeyWorld; tabs: Tab[] }[] = [];
  afterEach(async () => {
    for (const o of open.splice(0)) {
      for (const t of o.tabs) await t.context.close();
      await o.w.close();
    }
  });
  async function setup() {
    const clock = new FakeClock();
    const w = await passkeyWorld(dialect, clock);
    const tabs: Tab[] = [];
    open.push({ w, tabs });
    const tab = async () => {
      const t = await newTab(browser, w);
      tabs.push(t);
      return t;
    };
    return { w, clock, tab };
  }

  test('a person adds a passkey from a fresh session; it is listed and the addition is audited', async () => {
    const { w, tab } = await setup();
    const t = await tab();
    assert.equal((await passwordStep(t, 'alice@example.com')).status, 200);
    const options = await pageFetch(t.page, 'POST', '/v1/me/passkeys/options');
    assert.equal(options.body.rp.id, 'localhost');
    assert.equal(options.body.rp.name, 'Countersign');
    const credential = await createCredential(t.page, options.body);
    const body = { name: 'Work laptop', credential };
    const res = await pageFetch(t.page, 'POST', '/v1/me/passkeys', body);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const added = { id: res.body.id, credentialId: credential.id };
    const replay = await pageFetch(t.page, 'POST', '/v1/me/passkeys', body);
    assert.equal(replay.status, 409, 'the registration challenge works once');
    const list = await pageFetch(t.page, 'GET', '/v1/me/passkeys');
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.items.map((p: { id: string; name: string; transports: string[] }) => [p.id, p.name, p.transports]),
      [[added.id, 'Work laptop', ['internal']]],
    );
    const stored = await w.gw.deps.db.read.selectFrom('passkeys').selectAll().executeTakeFirstOrThrow();
    assert.equal(stored.credential_id, added.credentialId);
    assert.equal(stored.user_id, w.ids.alice);
    const audit = (await auditRows(w)).filter((r) => r.event === 'passkey.registered');
    assert.equal(audit.length, 1);
    assert.equal(data(audit[0] as { data: string }).passkey_id, added.id);
    assert.equal(audit[0]?.actor_id, w.ids.alice);
  });

  test('with a passkey, the right password alone opens no session; the passkey then opens a strong one', async () => {
    const { w, clock, tab } = await setup();
    const t = await tab();
    await signInAndRegister(t, 'alice@example.com');
    await t.context.clearCookies();
    const first = await passwordStep(t, 'alice@example.com');
    assert.equal(first.status, 202);
    assert.equal(first.body.passkey_required, true);
    assert.equal(first.body.options.rpId, 'localhost');
    assert.equal((await pageFetch(t.page, 'GET', '/v1/me')).status, 401, 'no session after the password alone');
    // The pending token is no session: as a cookie it opens nothing.
    await t.context.addCookies([{ name: 'cs_session', value: first.body.pending_token, url: w.origin }]);
    assert.equal((await pageFetch(t.page, 'GET', '/v1/me')).status, 401);
    await t.context.clearCookies();
    const credential = await getAssertion(t.page, first.body.options);
    assert.ok(!credential.error, credential.error);
    const done = await pageFetch(t.page, 'POST', '/v1/auth/login/passkey', { pending_token: first.body.pending_token, credential });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(done.body.email, 'alice@example.com');
    const sessions = await pageFetch(t.page, 'GET', '/v1/me/sessions');
    const current = sessions.body.items.find((s: { current: boolean }) => s.current);
    assert.equal(current.method, 'passkey');
    assert.equal(current.strong_at, new Date(clock.now()).toISOString(), 'strongly authenticated at sign-in');
    const events = (await auditRows(w)).map((r) => r.event);
    assert.ok(events.includes('auth.passkey_required'));
    assert.ok(events.includes('passkey.used'));
    const created = (await auditRows(w)).filter((r) => r.event === 'session.created').map(data);
    assert.equal(created.at(-1).method, 'passkey');
  });

  test("another person's passkey and an unregistered one are refused, and both count as failed sign-ins", async () => {
    const { w, tab } = await setup();
    const alice = await tab();
    await signInAndRegister(alice, 'alice@example.com');
    const bob = await tab();
    const bobs = await signInAndRegister(bob, 'bob@example.com');
    const stranger = await tab();
    for (const [who, allow] of [
      [bob, [{ id: bobs.credentialId, type: 'public-key' }]],
      [stranger, []],
    ] as const) {
      if (who === stranger) {
        // A credential this gateway never registered: made on the stranger's authenticator, never sent.
        await stranger.authenticator.cdp.send('WebAuthn.addCredential', {
          authenticatorId: stranger.authenticator.id,
          credential: {
            credentialId: Buffer.from('an unregistered passkey').toString('base64'),
            isResidentCredential: true,
            rpId: 'localhost',
            privateKey: (await unregisteredKey()).toString('base64'),
            userHandle: Buffer.from(w.ids.alice).toString('base64'),
            signCount: 0,
          },
        });
      }
      const first = await passwordStep(alice, 'alice@example.com');
      assert.equal(first.status, 202);
      // The other browser answers alice's challenge with a credential of its own.
      const credential = await getAssertion(who.page, { ...first.body.options, allowCredentials: allow });
      assert.ok(!credential.error, credential.error);
      const res = await pageFetch(alice.page, 'POST', '/v1/auth/login/passkey', { pending_token: first.body.pending_token, credential });
      assert.equal(res.status, 401, JSON.stringify(res.body));
      assert.equal(res.body.error.code, 'unauthenticated');
    }
    const failed = (await auditRows(w)).filter((r) => r.event === 'auth.sign_in_failed').map(data);
    assert.deepEqual(
      failed.map((d) => [d.method, d.user_id, String(d.reason).split(':')[0]]),
      [
        ['passkey', w.ids.alice, 'other_persons_credential'],
        ['passkey', w.ids.alice, 'unknown_credential'],
      ],
    );
    const throttle = await w.gw.deps.db.read
      .selectFrom('sign_in_throttle')
      .selectAll()
      .where('key', '=', 'account:alice@example.com')
      .executeTakeFirstOrThrow();
    assert.equal(throttle.failures, 2);
  });

  test('a replayed passkey answer is refused: the pending sign-in and its challenge work once', async () => {
    const { w, tab } = await setup();
    const t = await tab();
    await signInAndRegister(t, 'alice@example.com');
    await t.context.clearCookies();
    const { res, body } = await signInWithPasskey(t, 'alice@example.com');
    assert.equal(res.status, 200);
    const replay = await pageFetch(t.page, 'POST', '/v1/auth/login/passkey', body);
    assert.equal(replay.status, 401);
    assert.match(replay.body.error.message, /used, expired or unknown/);
    // The same assertion under a new pending sign-in: its challenge is not the new one.
    const again = await passwordStep(t, 'alice@example.com');
    const swapped = await pageFetch(t.page, 'POST', '/v1/auth/login/passkey', { ...body, pending_token: again.body.pending_token });
    assert.equal(swapped.status, 401);
    const reasons = (await auditRows(w)).filter((r) => r.event === 'auth.sign_in_failed').map((r) => data(r).reason);
    assert.deepEqual(reasons, ['wrong_challenge']);
  });

  test('a password reset link replaces the password, not the passkey: the passkey step follows before any session', async () => {
    const { w, tab } = await setup();
    const t = await tab();
    await signInAndRegister(t, 'alice@example.com');
    await t.context.clearCookies();
    const link = await issueResetLink(w.gw.deps, ADMIN, 'alice@example.com', new URL(w.origin));
    // Over the API: the link alone opens no session, the passkey step follows.
    const token = tokenOf(link.url);
    const reset = await pageFetch(t.page, 'POST', '/v1/auth/reset-password', { token, password: 'a brand new password' });
    assert.equal(reset.status, 202, JSON.stringify(reset.body));
    assert.equal(reset.body.passkey_required, true);
    assert.equal((await pageFetch(t.page, 'GET', '/v1/me')).status, 401, 'the link alone opens no session');
    // On the page the link opens, as a person uses it: the page runs the passkey step itself.
    const again = await issueResetLink(w.gw.deps, ADMIN, 'alice@example.com', new URL(w.origin));
    await t.page.goto(again.url);
    await t.page.fill('input[name=password]', 'a brand new password');
    await t.page.click('button');
    // The page's last word: not empty, and past "Now confirm with your passkey" (its CSP forbids eval, so polled from here).
    let said = '';
    for (let i = 0; i < 200 && (said === '' || said.startsWith('Password set. Now')); i++) {
      await new Promise((r) => setTimeout(r, 50));
      said = (await t.page.textContent('output')) ?? '';
    }
    assert.equal(await t.page.textContent('output'), 'Done: you are signed in as alice@example.com.');
    const sessions = await pageFetch(t.page, 'GET', '/v1/me/sessions');
    assert.equal(sessions.body.items.find((x: { current: boolean }) => x.current).method, 'passkey');
    assert.equal((await passwordStep(t, 'alice@example.com', 'a brand new password')).status, 202, 'the new password is in force');
    assert.ok((await auditRows(w)).some((r) => r.event === 'password.reset'));
  });

  test('the passkey step expires with its challenge, and a person disabled in between is refused', async () => {
    const { w, clock, tab } = await setup();
    const t = await tab();
    await signInAndRegister(t, 'alice@example.com');
    await t.context.clearCookies();
    const slow = await passwordStep(t, 'alice@example.com');
    const late = await getAssertion(t.page, slow.body.options);
    await clock.advance(5 * 60_000);
    const expired = await pageFetch(t.page, 'POST', '/v1/auth/login/passkey', { pending_token: slow.body.pending_token, credential: late });
    assert.equal(expired.status, 401);
    const first = await passwordStep(t, 'alice@example.com');
    const credential = await getAssertion(t.page, first.body.options);
    await disableUser(w.gw.deps, ADMIN, 'alice@example.com');
    const res = await pageFetch(t.page, 'POST', '/v1/auth/login/passkey', { pending_token: first.body.pending_token, credential });
    assert.equal(res.status, 401);
    assert.equal((await w.gw.deps.db.read.selectFrom('sessions').select('id').where('method', '=', 'passkey').execute()).length, 0);
    const failed = (await auditRows(w)).filter((r) => r.event === 'auth.sign_in_failed').map((r) => data(r).reason);
    assert.deepEqual(failed, ['disabled'], 'the expired step was refused before any passkey check');
  });

  test('a cloned authenticator, its sign counter going back, is refused', async () => {
    const { w, tab } = await setup();
    const original = await tab();
    await signInAndRegister(original, 'alice@example.com');
    const { credentials } = await original.authenticator.cdp.send('WebAuthn.getCredentials', {
      authenticatorId: original.authenticator.id,
    });
    const [copy] = credentials;
    assert.ok(copy && credentials.length === 1);
    assert.equal((await signInWithPasskey(original, 'alice@example.com')).res.status, 200);
    assert.equal((await signInWithPasskey(original, 'alice@example.com')).res.status, 200);
    // The copy taken after registration still counts from there.
    const clone = await tab();
    await clone.authenticator.cdp.send('WebAuthn.addCredential', { authenticatorId: clone.authenticator.id, credential: copy });
    const first = await passwordStep(clone, 'alice@example.com');
    const credential = await getAssertion(clone.page, first.body.options);
    assert.ok(!credential.error, credential.error);
    const res = await pageFetch(clone.page, 'POST', '/v1/auth/login/passkey', { pending_token: first.body.pending_token, credential });
    assert.equal(res.status, 401);
    const failed = (await auditRows(w)).filter((r) => r.event === 'auth.sign_in_failed').map(data);
    assert.match(failed.at(-1).reason, /^counter_went_backwards/);
  });
});

/** A P-256 private key (PKCS#8 DER), as the DevTools WebAuthn domain takes it. */
async function unregisteredKey(): Promise<Buffer> {
  const { generateKeyPairSync } = await import('node:crypto');
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return privateKey.export({ format: 'der', type: 'pkcs8' });
}
