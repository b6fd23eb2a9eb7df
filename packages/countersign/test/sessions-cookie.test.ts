import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import type { Config } from '../src/config/schema.js';
import { FakeClock } from '../src/lib/clock.js';
import { auditRows, call, forEachDialect, propose, type World, world } from './helpers.js';
import { browserCall, fastPasswords, ORIGIN, PASSWORD, setCookies, withPassword } from './session-helpers.js';

forEachDialect('the session cookie', (dialect) => {
  const open: World[] = [];
  afterEach(async () => {
    for (const w of open.splice(0)) await w.close();
  });
  async function setup(clock = new FakeClock(), config: (c: Config) => Config = (c) => c) {
    const w = await world(dialect, { clock, config: (c) => config(fastPasswords(c)) });
    open.push(w);
    return { w, clock };
  }

  test('is HttpOnly, SameSite=Lax, Path=/ and not Secure on plain-http localhost; its CSRF cookie is readable by the page', async () => {
    const { w } = await setup();
    const res = await call(w, 'POST', '/v1/auth/reset-password', undefined, {}, {});
    assert.equal(res.status, 400);
    await withPassword(w, 'alice@example.com');
    const login = await call(w, 'POST', '/v1/auth/login', undefined, { email: 'alice@example.com', password: PASSWORD });
    const c = setCookies(login);
    assert.deepEqual(c.cs_session?.attrs.sort(), ['HttpOnly', 'Max-Age=43200', 'Path=/', 'SameSite=Lax']);
    assert.deepEqual(c.cs_csrf?.attrs.sort(), ['Max-Age=43200', 'Path=/', 'SameSite=Lax']);
    assert.equal(login.headers['cache-control'], 'no-store');
  });

  test('is Secure when the public URL is https', async () => {
    const { w } = await setup(new FakeClock(), (c) => ({ ...c, server: { ...c.server, publicUrl: 'https://countersign.example.com' } }));
    const origin = 'https://countersign.example.com';
    await withPassword(w, 'alice@example.com', PASSWORD, origin);
    const res = await call(w, 'POST', '/v1/auth/login', undefined, { email: 'alice@example.com', password: PASSWORD }, { origin });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.ok(setCookies(res).cs_session?.attrs.includes('Secure'));
  });

  test('authorises a person to vote, recorded as a web vote with how they signed in', async () => {
    const { w } = await setup();
    const b = await withPassword(w, 'alice@example.com');
    const action = (await propose(w)).body;
    const res = await browserCall(w, b, 'POST', `/v1/actions/${action.id}/reviews`, { decision: 'approve' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const vote = (await auditRows(w, action.id)).find((r) => r.event === 'action.reviewed' || r.event === 'action.approved');
    assert.ok(vote, 'the vote is audited');
    const data = JSON.parse(vote.data);
    assert.equal(data.channel, 'web');
    assert.equal(data.auth.kind, 'session');
    assert.equal(data.auth.method, 'password');
  });

  test('a cross-site POST carrying the session cookie is refused, with or without the CSRF token', async () => {
    const { w } = await setup();
    const b = await withPassword(w, 'alice@example.com');
    const action = (await propose(w)).body;
    const url = `/v1/actions/${action.id}/reviews`;
    const evil = await browserCall(w, b, 'POST', url, { decision: 'approve' }, { origin: 'https://evil.example' });
    assert.equal(evil.status, 403);
    assert.match(evil.body.error.message, /cross-origin/);
    const noOrigin = await call(
      w,
      'POST',
      url,
      undefined,
      { decision: 'approve' },
      {
        cookie: b.headers.cookie as string,
        'sec-fetch-site': 'cross-site',
      },
    );
    assert.equal(noOrigin.status, 403, 'a form post from another site (no Origin, Sec-Fetch-Site cross-site)');
    const noToken = await call(
      w,
      'POST',
      url,
      undefined,
      { decision: 'approve' },
      { cookie: b.headers.cookie as string, origin: ORIGIN, host: '127.0.0.1:8700' },
    );
    assert.equal(noToken.status, 403, 'same origin but no X-CSRF-Token');
    const wrongToken = await browserCall(w, b, 'POST', url, { decision: 'approve' }, { 'x-csrf-token': 'x'.repeat(43) });
    assert.equal(wrongToken.status, 403);
    assert.equal((await call(w, 'GET', `/v1/actions/${action.id}`, w.keys.ada)).body.status, 'pending', 'nothing was decided');
    const ok = await browserCall(w, b, 'POST', url, { decision: 'approve' });
    assert.equal(ok.status, 200, 'the same vote from our own page passes');
  });

  test('an API key is checked first: a bad key is refused even next to a good cookie, and key writes need no CSRF token', async () => {
    const { w } = await setup();
    const b = await withPassword(w, 'alice@example.com');
    const bad = await call(w, 'GET', '/v1/me', `cs_000000000000_${'a'.repeat(43)}`, undefined, b.headers);
    assert.equal(bad.status, 401);
    const keyed = await call(w, 'GET', '/v1/me', w.keys.carol, undefined, b.headers);
    assert.equal(keyed.body.email, 'carol@example.com');
    const action = (await propose(w)).body;
    assert.equal((await call(w, 'POST', `/v1/actions/${action.id}/reviews`, w.keys.carol, { decision: 'approve' })).status, 200);
  });

  test('ends after the idle time-out without requests, and requests keep it alive until the absolute time-out', async () => {
    // Time-outs of minutes rather than the defaults' hours: the fake clock fires every poller the gateway
    // runs (about one every 1.25 s of simulated time), so twelve simulated hours took 40 s to 90 s of real time.
    const short = { idleTimeoutMs: 10 * 60_000, absoluteTimeoutMs: 60 * 60_000 };
    const { w, clock } = await setup(new FakeClock(), (c) => ({ ...c, auth: { ...c.auth, sessions: short } }));
    const b = await withPassword(w, 'alice@example.com');
    const { idleTimeoutMs, absoluteTimeoutMs } = w.gw.deps.config.auth.sessions;
    assert.deepEqual({ idleTimeoutMs, absoluteTimeoutMs }, short);
    for (let t = 0; t + idleTimeoutMs / 2 < absoluteTimeoutMs; t += idleTimeoutMs / 2) {
      assert.equal((await browserCall(w, b, 'GET', '/v1/me')).status, 200, `alive at ${t} ms`);
      await clock.advance(idleTimeoutMs / 2);
    }
    await clock.advance(idleTimeoutMs / 2);
    const late = await browserCall(w, b, 'GET', '/v1/me');
    assert.equal(late.status, 401, 'the absolute time-out ends even a busy session');
    const idle = await withPassword(w, 'carol@example.com');
    await clock.advance(idleTimeoutMs + 1);
    assert.equal((await browserCall(w, idle, 'GET', '/v1/me')).status, 401, 'an idle session ended');
  });

  test('an unknown or malformed cookie is refused like no credential at all', async () => {
    const { w } = await setup();
    for (const cookie of [`cs_session=${'a'.repeat(43)}`, 'cs_session=short', 'other=1']) {
      const res = await call(w, 'GET', '/v1/me', undefined, undefined, { cookie });
      assert.equal(res.status, 401, cookie);
    }
  });
});
