import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import type { Config } from '../src/config/schema.js';
import { disableUser } from '../src/domain/identities/disable-user.js';
import { warmPasswords } from '../src/domain/identities/passwords/warm-passwords.js';
import { FakeClock } from '../src/lib/clock.js';
import { ADMIN, auditRows, call, forEachDialect, type World, world } from './helpers.js';
import { browserCall, browserFrom, fastPasswords, login, PASSWORD, setCookies, withPassword } from './session-helpers.js';

forEachDialect('signing in with email and password', (dialect) => {
  const open: World[] = [];
  afterEach(async () => {
    for (const w of open.splice(0)) await w.close();
  });
  async function setup(clock = new FakeClock()) {
    // A per-address limit of 8 (default 50) keeps the spray test short; the rule is the same.
    const config = (c: Config) => {
      const f = fastPasswords(c);
      return { ...f, auth: { ...f.auth, local: { ...f.auth.local, maxFailuresPerAddress: 8 } } };
    };
    const w = await world(dialect, { clock, config });
    open.push(w);
    return { w, clock };
  }

  test('the right password opens a session that authenticates as that person, and the sign-in is audited', async () => {
    const { w } = await setup();
    await withPassword(w, 'alice@example.com');
    const res = await login(w, 'Alice@Example.com');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.email, 'alice@example.com');
    const b = browserFrom(res);
    assert.equal(res.body.csrf_token, b.csrf);
    const me = await browserCall(w, b, 'GET', '/v1/me');
    assert.equal(me.status, 200);
    assert.equal(me.body.email, 'alice@example.com');
    assert.equal(me.body.credential, 'session');
    const created = (await auditRows(w)).filter((r) => r.event === 'session.created');
    assert.equal(created.length, 2, 'the reset link signed in once, the password once');
    assert.equal(JSON.parse(created[1]?.data ?? '{}').method, 'password');
  });

  test('a gateway with local accounts prepares the dummy hash at start, so the first unknown email costs what every sign-in costs', async () => {
    const { w } = await setup();
    assert.equal(await warmPasswords(w.gw.deps), false, 'no local passwords yet: nothing to hide, nothing computed');
    assert.equal(w.gw.deps.passwords.warmed, false);
    await withPassword(w, 'alice@example.com');
    assert.equal(await warmPasswords(w.gw.deps), true);
    assert.equal(w.gw.deps.passwords.warmed, true);
  });

  test('a wrong password and an unknown email are refused alike, and both are audited', async () => {
    const { w } = await setup();
    await withPassword(w, 'alice@example.com');
    const wrong = await login(w, 'alice@example.com', 'not the password at all');
    const unknown = await login(w, 'nobody@example.com', PASSWORD);
    assert.equal(wrong.status, 401);
    assert.equal(unknown.status, 401);
    assert.equal(wrong.body.error.message, unknown.body.error.message);
    assert.deepEqual(setCookies(wrong), {}, 'no cookie on failure');
    const failed = (await auditRows(w)).filter((r) => r.event === 'auth.sign_in_failed').map((r) => JSON.parse(r.data));
    assert.deepEqual(
      failed.map((d) => [d.email, d.user_id === null]),
      [
        ['alice@example.com', false],
        ['nobody@example.com', true],
      ],
    );
  });

  test('a person without a password (only an API key) cannot sign in with any password', async () => {
    const { w } = await setup();
    assert.equal((await login(w, 'carol@example.com', '')).status, 400);
    assert.equal((await login(w, 'carol@example.com', PASSWORD)).status, 401);
  });

  test('a disabled person cannot sign in even with the right password', async () => {
    const { w } = await setup();
    await withPassword(w, 'alice@example.com');
    await disableUser(w.gw.deps, ADMIN, 'alice@example.com');
    assert.equal((await login(w, 'alice@example.com')).status, 401);
  });

  test('repeated failures lock the account with 429 and Retry-After, audited, and the lock doubles then lifts', async () => {
    const { w, clock } = await setup();
    await withPassword(w, 'alice@example.com');
    for (let i = 0; i < 5; i++) assert.equal((await login(w, 'alice@example.com', `guess number ${i}`)).status, 401);
    const locked = await login(w, 'alice@example.com');
    assert.equal(locked.status, 429, 'even the right password waits out the lock');
    assert.equal(locked.headers['retry-after'], '60');
    assert.equal((await auditRows(w)).filter((r) => r.event === 'auth.locked_out').length, 1);
    await clock.advance(61_000);
    assert.equal((await login(w, 'alice@example.com', 'one more guess')).status, 401);
    const again = await login(w, 'alice@example.com');
    assert.equal(again.status, 429);
    assert.equal(again.headers['retry-after'], '120', 'each further failure doubles the lock');
    await clock.advance(121_000);
    assert.equal((await login(w, 'alice@example.com')).status, 200);
    assert.equal((await login(w, 'alice@example.com', 'wrong once more')).status, 401, 'success forgave the earlier failures');
    assert.equal((await login(w, 'alice@example.com')).status, 200);
  });

  test('one address guessing many accounts is locked out per address', async () => {
    const { w } = await setup();
    await withPassword(w, 'carol@example.com');
    const limit = w.gw.deps.config.auth.local.maxFailuresPerAddress;
    for (let i = 0; i < limit; i++) await login(w, `user${i}@example.com`, 'spray password');
    const res = await login(w, 'carol@example.com');
    assert.equal(res.status, 429, 'the address is locked, whichever account it tries');
    assert.equal(
      (await login(w, 'carol@example.com', PASSWORD, { 'x-forwarded-for': '10.0.0.9' })).status,
      429,
      'a forwarded-for header is ignored unless trust_proxy is set',
    );
  });

  test('a sign-in posted from another site is refused before any password is checked', async () => {
    const { w } = await setup();
    await withPassword(w, 'alice@example.com');
    const res = await login(w, 'alice@example.com', PASSWORD, { origin: 'https://evil.example' });
    assert.equal(res.status, 403);
    const fetchSite = await call(
      w,
      'POST',
      '/v1/auth/login',
      undefined,
      { email: 'alice@example.com', password: PASSWORD },
      {
        'sec-fetch-site': 'cross-site',
      },
    );
    assert.equal(fetchSite.status, 403);
    assert.equal((await auditRows(w)).filter((r) => r.event === 'auth.sign_in_failed').length, 0);
  });
});
