import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { FakeClock } from '../src/lib/clock.js';
import { getAssertion, launchChromium, pageFetch } from './browser.js';
import { inBrowserOn } from './console-browser.js';
import { auditRows, call } from './helpers.js';
import {
  newTab,
  type PasskeyWorld,
  passkeyWorld,
  passwordStep,
  register,
  signInAndRegister,
  signInWithPasskey,
  type Tab,
} from './passkey-helpers.js';

/** Re-authentication for step-up, the recent sign-in rule, renaming and removing, admins and strangers (real Chromium). */
let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

const data = (r: { data: string }) => JSON.parse(r.data);
const MIN = 60_000;

inBrowserOn('postgres', 'managing passkeys and re-authenticating, in a real browser', (dialect) => {
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
    const t = await newTab(browser, w);
    tabs.push(t);
    const tab = async () => {
      const more = await newTab(browser, w);
      tabs.push(more);
      return more;
    };
    return { w, clock, t, tab };
  }
  async function reauthenticate(t: Tab) {
    const options = await pageFetch(t.page, 'POST', '/v1/me/reauthenticate/passkey/options');
    assert.equal(options.status, 200, JSON.stringify(options.body));
    const credential = await getAssertion(t.page, options.body);
    assert.ok(!credential.error, credential.error);
    return { res: await pageFetch(t.page, 'POST', '/v1/me/reauthenticate/passkey/verify', { credential }), credential };
  }

  test('re-authenticating with a passkey makes the session strong from now, audited; the same answer twice is refused', async () => {
    const { w, clock, t } = await setup();
    await signInAndRegister(t, 'alice@example.com');
    const session = (await pageFetch(t.page, 'GET', '/v1/me/sessions')).body.items[0];
    assert.equal(session.strong_at, null, 'a password sign-in is not strong');
    await clock.advance(30 * MIN);
    const { res, credential } = await reauthenticate(t);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.session_id, session.id);
    assert.equal(res.body.strong_at, new Date(clock.now()).toISOString());
    const row = await w.gw.deps.db.read.selectFrom('sessions').select('strong_at').where('id', '=', session.id).executeTakeFirstOrThrow();
    assert.equal(Number(row.strong_at), clock.now());
    const audit = (await auditRows(w)).filter((r) => r.event === 'session.reauthenticated').map(data);
    assert.deepEqual(
      audit.map((d) => [d.session_id, d.method]),
      [[session.id, 'passkey']],
    );
    const replay = await pageFetch(t.page, 'POST', '/v1/me/reauthenticate/passkey/verify', { credential });
    assert.equal(replay.status, 409, JSON.stringify(replay.body));
  });

  test("a challenge answers only the session that asked: another session's re-authentication is refused", async () => {
    const { w, t } = await setup();
    await signInAndRegister(t, 'alice@example.com');
    const options = await pageFetch(t.page, 'POST', '/v1/me/reauthenticate/passkey/options');
    const credential = await getAssertion(t.page, options.body);
    const res = await call(w, 'POST', '/v1/me/reauthenticate/passkey/verify', w.keys.alice, { credential });
    assert.equal(res.status, 400, 'an API key has no session to re-authenticate');
    // alice signs in again (a second session) and sends the first session's answer from there.
    await t.context.clearCookies();
    assert.equal((await signInWithPasskey(t, 'alice@example.com')).res.status, 200);
    const stolen = await pageFetch(t.page, 'POST', '/v1/me/reauthenticate/passkey/verify', { credential });
    assert.equal(stolen.status, 400, JSON.stringify(stolen.body));
    assert.equal((await auditRows(w)).filter((r) => r.event === 'session.reauthenticated').length, 0);
  });

  test('adding or removing a passkey needs a recent sign-in (reauthentication_required); re-authenticating grants it', async () => {
    const { w, clock, t } = await setup();
    const first = await signInAndRegister(t, 'alice@example.com');
    await clock.advance(11 * MIN);
    const late = await pageFetch(t.page, 'POST', '/v1/me/passkeys/options');
    assert.equal(late.status, 403);
    assert.equal(late.body.error.code, 'reauthentication_required');
    const remove = await pageFetch(t.page, 'POST', `/v1/me/passkeys/${first.id}/remove`);
    assert.equal(remove.body.error.code, 'reauthentication_required');
    assert.equal((await reauthenticate(t)).res.status, 200);
    // A second authenticator (a security key) on the same page, added now that the session is fresh again.
    await t.authenticator.cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: t.authenticator.id });
    const { authenticatorId } = await t.authenticator.cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'usb',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    t.authenticator.id = authenticatorId;
    const second = await register(t, 'Security key');
    const removed = await pageFetch(t.page, 'POST', `/v1/me/passkeys/${first.id}/remove`);
    assert.equal(removed.status, 200, JSON.stringify(removed.body));
    assert.equal(removed.body.remaining, 1);
    const list = await pageFetch(t.page, 'GET', '/v1/me/passkeys');
    assert.deepEqual(
      list.body.items.map((p: { id: string; transports: string[] }) => [p.id, p.transports]),
      [[second.id, ['usb']]],
    );
    const audit = (await auditRows(w)).filter((r) => r.event === 'passkey.removed').map(data);
    assert.deepEqual(
      audit.map((d) => [d.passkey_id, d.remaining, d.second_factor]),
      [[first.id, 1, true]],
    );
  });

  test('renaming my passkey is audited; another person cannot rename or remove it (not found)', async () => {
    const { w, t, tab } = await setup();
    const mine = await signInAndRegister(t, 'alice@example.com');
    const renamed = await pageFetch(t.page, 'POST', `/v1/me/passkeys/${mine.id}/rename`, { name: '  Phone  ' });
    assert.equal(renamed.status, 200);
    assert.equal(renamed.body.name, 'Phone');
    const bob = await tab();
    assert.equal((await passwordStep(bob, 'bob@example.com')).status, 200);
    assert.equal((await pageFetch(bob.page, 'POST', `/v1/me/passkeys/${mine.id}/rename`, { name: 'mine now' })).status, 404);
    assert.equal((await pageFetch(bob.page, 'POST', `/v1/me/passkeys/${mine.id}/remove`)).status, 404);
    assert.equal((await pageFetch(t.page, 'POST', `/v1/me/passkeys/${mine.id}/rename`, { name: 'bad\u0007name' })).status, 400);
    const audit = (await auditRows(w)).filter((r) => r.event === 'passkey.renamed').map(data);
    assert.deepEqual(
      audit.map((d) => [d.from, d.to]),
      [['Laptop', 'Phone']],
    );
  });

  test('an admin removes a lost passkey, audited; with the last one gone the password alone signs in again', async () => {
    const { w, t } = await setup();
    const lost = await signInAndRegister(t, 'alice@example.com');
    const listed = await call(w, 'GET', '/v1/admin/users/alice@example.com/passkeys', w.keys.ada);
    assert.equal(listed.status, 200);
    assert.deepEqual(
      listed.body.items.map((p: { id: string }) => p.id),
      [lost.id],
    );
    const url = `/v1/admin/users/alice@example.com/passkeys/${lost.id}/remove`;
    // Two admins at once: one removes it, the other is told it is gone.
    const both = await Promise.all([call(w, 'POST', url, w.keys.ada), call(w, 'POST', url, w.keys.ada)]);
    const removed = both.find((r) => r.status === 200);
    assert.ok(removed, JSON.stringify(both.map((r) => r.body)));
    assert.equal(removed.body.remaining, 0);
    assert.ok([404, 409].includes(both.find((r) => r !== removed)?.status ?? 0), 'removed once');
    const audit = (await auditRows(w)).filter((r) => r.event === 'passkey.removed');
    assert.equal(audit.length, 1);
    assert.deepEqual([data(audit[0] as { data: string }).second_factor, audit[0]?.actor_type], [false, 'user']);
    await t.context.clearCookies();
    assert.equal((await passwordStep(t, 'alice@example.com')).status, 200, 'the second factor is off');
  });

  test('unauthorised callers are refused: anonymous, agents, API keys for browser ceremonies, non-admins, another site', async () => {
    const { w, t } = await setup();
    const pk = await signInAndRegister(t, 'alice@example.com');
    const admin = `/v1/admin/users/alice@example.com/passkeys`;
    assert.equal((await call(w, 'GET', '/v1/me/passkeys')).status, 401);
    assert.equal((await call(w, 'GET', '/v1/me/passkeys', w.keys.agent)).status, 403);
    assert.equal((await call(w, 'POST', '/v1/me/passkeys/options', w.keys.alice)).status, 400, 'a key cannot add a passkey');
    assert.equal((await call(w, 'POST', '/v1/me/reauthenticate/passkey/options', w.keys.alice)).status, 400);
    assert.equal((await call(w, 'GET', admin, w.keys.alice)).status, 403);
    assert.equal((await call(w, 'POST', `${admin}/${pk.id}/remove`, w.keys.alice)).status, 403);
    assert.equal((await call(w, 'POST', `${admin}/${pk.id}/remove`, w.keys.agent)).status, 403);
    assert.equal((await call(w, 'POST', `${admin}/${pk.id}/remove`)).status, 401);
    // The session cookie from another site's page: refused before anything else (no CSRF token, foreign Origin).
    const [cookie] = (await t.context.cookies()).filter((c) => c.name === 'cs_session');
    const crossSite = await call(w, 'POST', `/v1/me/passkeys/${pk.id}/remove`, undefined, undefined, {
      cookie: `cs_session=${cookie?.value}`,
      origin: 'https://evil.example',
    });
    assert.equal(crossSite.status, 403);
    assert.equal((await w.gw.deps.db.read.selectFrom('passkeys').select('id').execute()).length, 1, 'nothing removed');
  });
});
