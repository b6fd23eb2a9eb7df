import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import type { OidcConfigFile } from '../src/config/oidc-schema.js';
import { issueKey } from '../src/domain/identities/issue-key.js';
import { FakeClock } from '../src/lib/clock.js';
import { ADMIN, auditRows, call, forEachDialect, propose, review, type World, world } from './helpers.js';
import { callback, cookies, groupsOf, signIn, startAndAuthorize, userByEmail, withSso } from './oidc-flow.js';
import { TestIdp } from './oidc-idp.js';

let idp: TestIdp;
before(async () => {
  idp = await TestIdp.start();
});
after(async () => {
  await idp.stop();
});

forEachDialect('sign-in with an OpenID Connect provider', (dialect) => {
  const open: World[] = [];
  afterEach(async () => {
    for (const w of open.splice(0)) await w.close();
    idp.rewriteIdToken = undefined;
    idp.signWithForeignKey = false;
    idp.accounts.clear();
  });
  async function setup(overrides: Partial<OidcConfigFile> = {}, clock?: FakeClock) {
    const w = await world(dialect, { config: withSso(idp, overrides), ...(clock ? { clock } : {}) });
    open.push(w);
    return w;
  }

  test('a new person signs in through the IdP, is provisioned with the mapped groups and role, linked by issuer and subject, and gets a session', async () => {
    const w = await setup({ jit_provisioning: true });
    idp.accounts.set('sub-dana', { email: 'Dana@Example.com', name: 'Dana', groups: ['cs-approvers', 'unrelated'] });
    const res = await signIn(w, idp, 'sub-dana', '/actions?status=pending');
    assert.equal(res.status, 302, JSON.stringify(res.body));
    assert.equal(res.headers.location, '/actions?status=pending');
    const set = cookies(res.headers);
    assert.ok((set.get('cs_session') ?? '').length > 20, 'the session cookie is set');
    assert.equal(set.get('cs_oidc_state'), '', 'the state cookie is cleared');
    const dana = await userByEmail(w, 'dana@example.com');
    assert.ok(dana);
    assert.deepEqual({ role: dana.role, groups: await groupsOf(w, 'dana@example.com') }, { role: 'reviewer', groups: ['ops'] });
    const link = await w.gw.deps.db.read.selectFrom('linked_identities').selectAll().where('user_id', '=', dana.id).execute();
    assert.deepEqual(
      link.map((l) => [l.issuer, l.subject]),
      [[idp.issuer, 'sub-dana']],
    );
    const sessions = await w.gw.deps.db.read.selectFrom('sessions').selectAll().where('user_id', '=', dana.id).execute();
    assert.equal(sessions.length, 1);
    assert.equal(sessions[0]?.method, 'oidc');
    const events = (await auditRows(w)).map((r) => r.event);
    for (const e of ['user.created', 'identity.linked', 'session.created']) assert.ok(events.includes(e), `audited ${e}`);
    const me = await call(w, 'GET', '/v1/me', undefined, undefined, { cookie: `cs_session=${set.get('cs_session')}` });
    assert.equal(me.status, 200, JSON.stringify(me.body));
    assert.deepEqual([me.body.email, me.body.credential], ['dana@example.com', 'session']);
  });

  test('with just-in-time provisioning off, an IdP account nobody linked is refused, nobody is created, and the refusal is audited', async () => {
    const w = await setup();
    idp.accounts.set('sub-erin', { email: 'erin@example.com', groups: ['cs-approvers'] });
    const res = await signIn(w, idp, 'sub-erin');
    assert.equal(res.status, 403);
    assert.equal(res.body.error.code, 'forbidden');
    assert.equal(cookies(res.headers).has('cs_session'), false);
    assert.equal(await userByEmail(w, 'erin@example.com'), undefined);
    const refused = (await auditRows(w)).filter((r) => r.event === 'oidc.sign_in_refused');
    assert.equal(refused.length, 1);
    assert.equal(JSON.parse(refused[0]?.data as string).subject, 'sub-erin');
  });

  test('an IdP account with the email of an existing person is not adopted by email alone', async () => {
    const w = await setup({ jit_provisioning: true });
    idp.accounts.set('sub-impostor', { email: 'alice@example.com', groups: ['cs-approvers'] });
    const res = await signIn(w, idp, 'sub-impostor');
    assert.equal(res.status, 403);
    assert.match(res.body.error.message, /not linked/);
    const links = await w.gw.deps.db.read.selectFrom('linked_identities').selectAll().execute();
    assert.equal(links.length, 0);
  });

  test('an ID token issued for another audience is refused', async () => {
    const w = await setup({ jit_provisioning: true });
    idp.accounts.set('sub-fay', { email: 'fay@example.com', groups: [] });
    idp.rewriteIdToken = (c) => ({ ...c, aud: 'some-other-client' });
    const res = await signIn(w, idp, 'sub-fay');
    assert.equal(res.status, 401, JSON.stringify(res.body));
    assert.equal(res.body.error.code, 'unauthenticated');
    assert.equal(cookies(res.headers).has('cs_session'), false);
    assert.equal(await userByEmail(w, 'fay@example.com'), undefined);
  });

  test('an ID token signed with a key that is not in the IdP JWKS is refused', async () => {
    const w = await setup({ jit_provisioning: true });
    idp.accounts.set('sub-gus', { email: 'gus@example.com', groups: [] });
    idp.rewriteIdToken = (c) => c;
    idp.signWithForeignKey = true;
    const res = await signIn(w, idp, 'sub-gus');
    assert.equal(res.status, 401, JSON.stringify(res.body));
    assert.equal(await userByEmail(w, 'gus@example.com'), undefined);
  });

  test('an expired ID token is refused', async () => {
    const clock = new FakeClock(Date.now());
    const w = await setup({ jit_provisioning: true, login_timeout: 86_400_000 }, clock);
    idp.accounts.set('sub-hal', { email: 'hal@example.com', groups: [] });
    const { callback: path, state } = await startAndAuthorize(w, idp, 'sub-hal');
    // The IdP's ID tokens live an hour; the gateway's clock says two have passed.
    await clock.advance(2 * 3_600_000);
    const res = await callback(w, path, state);
    assert.equal(res.status, 401, JSON.stringify(res.body));
    assert.match(res.body.error.message, /timestamp claim/);
    assert.equal(await userByEmail(w, 'hal@example.com'), undefined);
  });

  test('a replayed state is refused and opens no second session', async () => {
    const w = await setup({ jit_provisioning: true });
    idp.accounts.set('sub-ivy', { email: 'ivy@example.com', groups: [] });
    const { callback: path, state } = await startAndAuthorize(w, idp, 'sub-ivy');
    const first = await callback(w, path, state);
    assert.equal(first.status, 302);
    const again = await callback(w, path, state);
    assert.equal(again.status, 400);
    assert.match(again.body.error.message, /already used/);
    const ivy = await userByEmail(w, 'ivy@example.com');
    const sessions = await w.gw.deps.db.read
      .selectFrom('sessions')
      .selectAll()
      .where('user_id', '=', ivy?.id ?? '')
      .execute();
    assert.equal(sessions.length, 1);
  });

  test('a callback arriving in a browser that did not start the sign-in is refused (login CSRF)', async () => {
    const w = await setup({ jit_provisioning: true });
    idp.accounts.set('sub-jo', { email: 'jo@example.com', groups: [] });
    const { callback: path } = await startAndAuthorize(w, idp, 'sub-jo');
    const res = await callback(w, path, undefined);
    assert.equal(res.status, 400);
    assert.match(res.body.error.message, /not started in this browser/);
  });

  test('a person removed from a group at the IdP loses the right to approve at their next sign-in', async () => {
    const w = await setup({ jit_provisioning: true });
    idp.accounts.set('sub-kim', { email: 'kim@example.com', groups: ['cs-approvers'] });
    assert.equal((await signIn(w, idp, 'sub-kim')).status, 302);
    const key = (await issueKey(w.gw.deps, ADMIN, { for: 'kim@example.com' })).apiKey;
    const first = await propose(w);
    assert.equal(first.body.status, 'pending');
    const approved = await review(w, first.body.id, key, { decision: 'approve' });
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.equal(approved.body.status, 'approved');

    idp.accounts.set('sub-kim', { email: 'kim@example.com', groups: [] });
    assert.equal((await signIn(w, idp, 'sub-kim')).status, 302);
    const kim = await userByEmail(w, 'kim@example.com');
    assert.deepEqual({ role: kim?.role, groups: await groupsOf(w, 'kim@example.com') }, { role: 'viewer', groups: [] });
    const second = await propose(w);
    const refused = await review(w, second.body.id, key, { decision: 'approve' });
    assert.equal(refused.status, 403);
    const changes = (await auditRows(w)).filter((r) => r.event === 'user.groups_changed');
    assert.deepEqual(JSON.parse(changes.at(-1)?.data as string).to, []);
  });

  test('return_to must be a path on this gateway', async () => {
    const w = await setup();
    for (const bad of ['https://evil.example/', '//evil.example/', '/\\evil.example/', 'inbox']) {
      const res = await call(w, 'GET', `/v1/auth/oidc/login?return_to=${encodeURIComponent(bad)}`);
      assert.equal(res.status, 400, bad);
    }
  });

  test('sign-in routes answer 404 when single sign-on is not configured', async () => {
    const w = await world(dialect);
    open.push(w);
    const res = await call(w, 'GET', '/v1/auth/oidc/login');
    assert.equal(res.status, 404);
  });
});
