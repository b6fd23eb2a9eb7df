import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { disableUser } from '../src/domain/identities/disable-user.js';
import { enableUser } from '../src/domain/identities/enable-user.js';
import { readIdentityEpoch } from '../src/domain/identities/epoch.js';
import { FakeClock } from '../src/lib/clock.js';
import { ADMIN, auditRows, call, forEachDialect, propose, type World, world } from './helpers.js';
import { browserCall, fastPasswords, login, setCookies, withPassword } from './session-helpers.js';
import { SseClient } from './sse-client.js';

/** Generous: the gateway that revoked checks at once, and every gateway at least every second. */
const PROMPTLY_MS = 5000;

forEachDialect('managing my sessions', (dialect) => {
  const open: World[] = [];
  const streams: SseClient[] = [];
  afterEach(async () => {
    for (const s of streams.splice(0)) s.close();
    for (const w of open.splice(0)) await w.close();
  });
  async function setup(listen = false) {
    const w = await world(dialect, { config: fastPasswords, listen });
    open.push(w);
    return w;
  }

  test('a person lists their own live sessions, the current one marked, and never anyone else’s', async () => {
    const w = await setup();
    const first = await withPassword(w, 'alice@example.com');
    await login(w, 'alice@example.com', undefined, { 'user-agent': 'second browser' });
    await withPassword(w, 'carol@example.com');
    const res = await browserCall(w, first, 'GET', '/v1/me/sessions');
    assert.equal(res.status, 200);
    assert.equal(res.body.items.length, 2, 'the session the reset link opened and the login; not carol’s');
    const again = await login(w, 'alice@example.com', undefined, { 'user-agent': 'third browser' });
    const listed = await browserCall(w, first, 'GET', '/v1/me/sessions');
    assert.equal(listed.body.items.length, 3);
    assert.deepEqual(
      listed.body.items.map((s: { current: boolean; method: string }) => [s.current, s.method]),
      [
        [false, 'password'],
        [false, 'password'],
        [true, 'password'],
      ],
      'newest first: the third login, the second, then the one this request uses',
    );
    assert.equal(listed.body.items[0].user_agent, 'third browser');
    assert.equal(setCookies(again).cs_session !== undefined, true);
    const byKey = await call(w, 'GET', '/v1/me/sessions', w.keys.alice);
    assert.equal(byKey.body.items.length, 3, 'an API key of the same person sees them too, none current');
    assert.equal(
      byKey.body.items.some((s: { current: boolean }) => s.current),
      false,
    );
  });

  test('revoking one of my sessions ends it at once, is audited, and a second revoke is a conflict', async () => {
    const w = await setup();
    const mine = await withPassword(w, 'alice@example.com');
    const other = await login(w, 'alice@example.com');
    const list = (await browserCall(w, mine, 'GET', '/v1/me/sessions')).body.items as { id: string; current: boolean }[];
    const target = list.find((s) => !s.current);
    assert.ok(target);
    const res = await browserCall(w, mine, 'POST', `/v1/me/sessions/${target.id}/revoke`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const otherCookie = setCookies(other).cs_session?.value;
    assert.equal((await call(w, 'GET', '/v1/me', undefined, undefined, { cookie: `cs_session=${otherCookie}` })).status, 401);
    assert.equal((await browserCall(w, mine, 'GET', '/v1/me')).status, 200, 'the current session is untouched');
    const audit = (await auditRows(w)).filter((r) => r.event === 'session.revoked');
    assert.equal(audit.length, 1);
    assert.equal(JSON.parse(audit[0]?.data ?? '{}').session_id, target.id);
    assert.equal((await browserCall(w, mine, 'POST', `/v1/me/sessions/${target.id}/revoke`)).status, 409);
  });

  test("someone else's session cannot be revoked (it reads as not found), nor by an agent or without credentials", async () => {
    const w = await setup();
    const alice = await withPassword(w, 'alice@example.com');
    const carol = await withPassword(w, 'carol@example.com');
    const carolsId = (await browserCall(w, carol, 'GET', '/v1/me/sessions')).body.items[0].id as string;
    assert.equal((await browserCall(w, alice, 'POST', `/v1/me/sessions/${carolsId}/revoke`)).status, 404);
    assert.equal((await call(w, 'POST', `/v1/me/sessions/${carolsId}/revoke`, w.keys.agent)).status, 403);
    assert.equal((await call(w, 'GET', '/v1/me/sessions', w.keys.agent)).status, 403);
    assert.equal((await call(w, 'POST', `/v1/me/sessions/${carolsId}/revoke`)).status, 401);
    assert.equal((await browserCall(w, carol, 'GET', '/v1/me')).status, 200, "carol's session still works");
  });

  test('signing out ends the session and clears its cookies; an API key cannot sign out', async () => {
    const w = await setup();
    const b = await withPassword(w, 'alice@example.com');
    const out = await browserCall(w, b, 'POST', '/v1/auth/logout');
    assert.equal(out.status, 200);
    assert.equal(setCookies(out).cs_session?.value, '');
    assert.ok(setCookies(out).cs_session?.attrs.includes('Max-Age=0'));
    assert.equal((await browserCall(w, b, 'GET', '/v1/me')).status, 401);
    assert.equal((await auditRows(w)).filter((r) => r.event === 'session.logged_out').length, 1);
    assert.equal((await call(w, 'POST', '/v1/auth/logout', w.keys.alice)).status, 400);
    assert.equal((await call(w, 'POST', '/v1/auth/logout')).status, 401);
  });

  test('disabling a person ends all their sessions for good: enabling them again does not bring the sessions back', async () => {
    const w = await setup();
    const b = await withPassword(w, 'alice@example.com');
    const epoch = await readIdentityEpoch(w.gw.deps.db.read);
    await disableUser(w.gw.deps, ADMIN, 'alice@example.com');
    assert.ok((await readIdentityEpoch(w.gw.deps.db.read)) > epoch);
    assert.equal((await browserCall(w, b, 'GET', '/v1/me')).status, 401);
    await enableUser(w.gw.deps, ADMIN, 'alice@example.com');
    assert.equal((await browserCall(w, b, 'GET', '/v1/me')).status, 401);
    const disabled = (await auditRows(w)).find((r) => r.event === 'user.disabled');
    assert.equal(JSON.parse(disabled?.data ?? '{}').ended_sessions, 1);
  });

  test('a browser follows the event stream with its session cookie, and the stream ends when the session is revoked', async () => {
    const w = await setup(true);
    const b = await withPassword(w, 'alice@example.com');
    const s = await SseClient.openWith(w.gw.url, { cookie: b.headers.cookie as string });
    streams.push(s);
    const a = (await propose(w)).body;
    await s.waitFor('action.created', a.id);
    const current = (await browserCall(w, b, 'GET', '/v1/me/sessions')).body.items[0].id as string;
    await browserCall(w, b, 'POST', `/v1/me/sessions/${current}/revoke`);
    const after = (await propose(w, { arguments: { env: 'staging' } })).body;
    assert.ok(await s.endsWithin(PROMPTLY_MS), 'the server ended the stream');
    assert.equal(
      s.events.some((e) => e.data.action_id === after.id),
      false,
    );
  });

  test('disabling a person ends the event stream their browser holds open', async () => {
    const w = await setup(true);
    const b = await withPassword(w, 'alice@example.com');
    const s = await SseClient.openWith(w.gw.url, { cookie: b.headers.cookie as string });
    streams.push(s);
    await disableUser(w.gw.deps, ADMIN, 'alice@example.com');
    assert.ok(await s.endsWithin(PROMPTLY_MS));
  });

  test('an event stream held by a session ends when the session times out, though nothing bumped the epoch', async () => {
    const clock = new FakeClock();
    const w = await world(dialect, { config: fastPasswords, listen: true, clock });
    open.push(w);
    const b = await withPassword(w, 'alice@example.com');
    const s = await SseClient.openWith(w.gw.url, { cookie: b.headers.cookie as string });
    streams.push(s);
    const key = await SseClient.open(w.gw.url, w.keys.carol);
    streams.push(key);
    await clock.advance(w.gw.deps.config.auth.sessions.idleTimeoutMs);
    assert.ok(await s.endsWithin(PROMPTLY_MS), "the idle session's stream ended at a re-check");
    const a = (await propose(w)).body;
    await key.waitFor('action.created', a.id);
  });
});
