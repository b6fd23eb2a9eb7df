import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { disableUser } from '../src/domain/identities/disable-user.js';
import { issueResetLink } from '../src/domain/identities/links/issue-reset-link.js';
import { issueSetupLinkIfNeeded } from '../src/domain/identities/links/setup-link.js';
import { FakeClock } from '../src/lib/clock.js';
import { ADMIN, auditRows, call, forEachDialect, type World, world } from './helpers.js';
import { browserCall, browserFrom, fastPasswords, login, ORIGIN, PASSWORD, redeem, tokenOf, withPassword } from './session-helpers.js';

forEachDialect('one-time links: first-run setup and password reset', (dialect) => {
  const open: World[] = [];
  afterEach(async () => {
    for (const w of open.splice(0)) await w.close();
  });
  async function setup(clock = new FakeClock()) {
    const w = await world(dialect, { clock, config: fastPasswords });
    open.push(w);
    return { w, clock };
  }
  const origin = new URL(ORIGIN);

  test('the setup link makes its redeemer an admin with a password and a session, once', async () => {
    const { w } = await setup();
    const link = await issueSetupLinkIfNeeded(w.gw.deps, origin);
    assert.ok(link, 'no admin can sign in yet (ada has only an API key)');
    assert.match(link.url, /^http:\/\/127\.0\.0\.1:8700\/setup#token=/);
    const body = { token: tokenOf(link.url), email: 'root@example.com', name: 'Root', password: PASSWORD };
    const res = await redeem(w, '/v1/auth/setup', body);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const me = await browserCall(w, browserFrom(res), 'GET', '/v1/me');
    assert.deepEqual([me.body.email, me.body.role, me.body.credential], ['root@example.com', 'admin', 'session']);
    const sessions = await browserCall(w, browserFrom(res), 'GET', '/v1/me/sessions');
    assert.equal(sessions.body.items[0].method, 'setup_link');
    const again = await redeem(w, '/v1/auth/setup', { ...body, email: 'mallory@example.com' });
    assert.equal(again.status, 401, 'single-use');
    assert.equal(await issueSetupLinkIfNeeded(w.gw.deps, origin), null, 'setup is done: no further link');
    assert.equal((await login(w, 'root@example.com')).status, 200);
    const audit = (await auditRows(w)).map((r) => r.event);
    assert.ok(audit.includes('setup_link.issued') && audit.includes('setup.completed') && audit.includes('session.created'));
  });

  test('setup gives a password to an existing person with that email and makes them admin', async () => {
    const { w } = await setup();
    const link = await issueSetupLinkIfNeeded(w.gw.deps, origin);
    const res = await redeem(w, '/v1/auth/setup', { token: tokenOf(link?.url ?? ''), email: 'alice@example.com', password: PASSWORD });
    assert.equal(res.status, 200);
    assert.equal((await call(w, 'GET', '/v1/me', w.keys.alice)).body.role, 'admin', 'her API key now acts as admin too');
  });

  test('an expired or unknown setup link is refused, and a short password is refused without using the link', async () => {
    const { w, clock } = await setup();
    const link = await issueSetupLinkIfNeeded(w.gw.deps, origin);
    const body = (url: string | undefined, password = PASSWORD) => ({ token: tokenOf(url ?? ''), email: 'root@example.com', password });
    assert.equal((await redeem(w, '/v1/auth/setup', { ...body(link?.url), token: 'A'.repeat(43) })).status, 401);
    const madeUp = await redeem(w, '/v1/auth/reset-password', { token: 'A'.repeat(43), password: 'x'.repeat(200) });
    assert.equal(madeUp.status, 401, 'a made-up token is refused before any password is hashed');
    const short = await redeem(w, '/v1/auth/setup', body(link?.url, 'short'));
    assert.equal(short.status, 400);
    assert.match(short.body.error.message, /at least 12 characters/);
    await clock.advance(w.gw.deps.config.auth.local.setupLinkTtlMs);
    assert.equal((await redeem(w, '/v1/auth/setup', body(link?.url))).status, 401, 'expired');
  });

  test('every start prints a setup link that works (several nodes start together); the first one used ends the others', async () => {
    const { w } = await setup();
    const [first, second, third] = [
      await issueSetupLinkIfNeeded(w.gw.deps, origin),
      await issueSetupLinkIfNeeded(w.gw.deps, origin),
      await issueSetupLinkIfNeeded(w.gw.deps, origin),
    ];
    const body = (url: string | undefined, email: string) => ({ token: tokenOf(url ?? ''), email, password: PASSWORD });
    const used = await redeem(w, '/v1/auth/setup', body(second?.url, 'root@example.com'));
    assert.equal(used.status, 200, 'a link printed before the latest still works');
    for (const other of [first, third]) {
      assert.equal((await redeem(w, '/v1/auth/setup', body(other?.url, 'mallory@example.com'))).status, 401, 'ended by the setup');
    }
    const live = await w.gw.deps.db.read
      .selectFrom('one_time_links')
      .select('id')
      .where('kind', '=', 'setup')
      .where('used_at', 'is', null)
      .execute();
    assert.deepEqual(live, []);
    const audit = (await auditRows(w)).map((r) => r.event);
    assert.equal(audit.filter((e) => e === 'setup_link.issued').length, 3);
    assert.equal(audit.filter((e) => e === 'setup.completed').length, 1);
  });

  test('an admin issues a reset link over HTTP (audited); it sets a new password, ends the old sessions and works once', async () => {
    const { w } = await setup();
    const old = await withPassword(w, 'alice@example.com');
    const res = await call(w, 'POST', '/v1/admin/password-reset-links', w.keys.ada, { email: 'alice@example.com' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.match(res.body.url, /\/reset-password#token=[A-Za-z0-9_-]{43}$/);
    const issued = (await auditRows(w)).filter((r) => r.event === 'password_reset_link.issued');
    assert.equal(issued.length, 2, 'the helper issued one, the admin one');
    const newPassword = 'a different long passphrase';
    const used = await redeem(w, '/v1/auth/reset-password', { token: tokenOf(res.body.url), password: newPassword });
    assert.equal(used.status, 200);
    assert.equal((await browserCall(w, old, 'GET', '/v1/me')).status, 401, 'the session from before the reset ended');
    assert.equal((await browserCall(w, browserFrom(used), 'GET', '/v1/me')).status, 200);
    assert.equal((await login(w, 'alice@example.com', PASSWORD)).status, 401);
    assert.equal((await login(w, 'alice@example.com', newPassword)).status, 200);
    const twice = await redeem(w, '/v1/auth/reset-password', { token: tokenOf(res.body.url), password: newPassword });
    assert.equal(twice.status, 401);
    assert.equal(JSON.parse((await auditRows(w)).findLast((r) => r.event === 'password.reset')?.data ?? '{}').sessions_ended, 1);
  });

  test('only an admin may issue a reset link, never for a disabled person or an unknown email', async () => {
    const { w } = await setup();
    const url = '/v1/admin/password-reset-links';
    assert.equal((await call(w, 'POST', url, w.keys.alice, { email: 'carol@example.com' })).status, 403);
    assert.equal((await call(w, 'POST', url, w.keys.agent, { email: 'carol@example.com' })).status, 403);
    assert.equal((await call(w, 'POST', url, undefined, { email: 'carol@example.com' })).status, 401);
    assert.equal((await call(w, 'POST', url, w.keys.ada, { email: 'nobody@example.com' })).status, 404);
    await disableUser(w.gw.deps, ADMIN, 'carol@example.com');
    assert.equal((await call(w, 'POST', url, w.keys.ada, { email: 'carol@example.com' })).status, 409);
  });

  test('a reset link stops working when it expires, when a newer one is issued, or when the person is disabled', async () => {
    const { w, clock } = await setup();
    const older = await issueResetLink(w.gw.deps, ADMIN, 'alice@example.com', origin);
    const newer = await issueResetLink(w.gw.deps, ADMIN, 'alice@example.com', origin);
    const use = (u: string) => redeem(w, '/v1/auth/reset-password', { token: tokenOf(u), password: PASSWORD });
    assert.equal((await use(older.url)).status, 401);
    await clock.advance(w.gw.deps.config.auth.local.resetLinkTtlMs);
    assert.equal((await use(newer.url)).status, 401);
    const carol = await issueResetLink(w.gw.deps, ADMIN, 'carol@example.com', origin);
    await disableUser(w.gw.deps, ADMIN, 'carol@example.com');
    assert.equal((await use(carol.url)).status, 401);
  });

  test('the pages the links open are served with a CSP that allows only their own script', async () => {
    const { w } = await setup();
    for (const path of ['/setup', '/reset-password']) {
      const res = await call(w, 'GET', path);
      assert.equal(res.status, 200);
      assert.match(String(res.headers['content-type']), /^text\/html/);
      assert.match(String(res.headers['content-security-policy']), /script-src 'sha256-[A-Za-z0-9+/=]+'; connect-src 'self'/);
      assert.match(res.body as string, /<form data-api="\/v1\/auth\/(setup|reset-password)">/);
    }
  });
});
