import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { type OidcConfigFile, resolveOidc } from '../src/config/oidc-schema.js';
import type { Config } from '../src/config/schema.js';
import { disableUser } from '../src/domain/identities/disable-user.js';
import { issueKey } from '../src/domain/identities/issue-key.js';
import { linkIdentity, unlinkIdentity } from '../src/domain/identities/oidc/link-identity.js';
import { FakeClock } from '../src/lib/clock.js';
import type { CsError } from '../src/lib/errors.js';
import { ADMIN, addPeople, auditRows, call, forEachDialect, propose, review, type World, withPolicy, world } from './helpers.js';
import { CLIENT_SECRET, PUBLIC_URL, TestIdp } from './oidc-idp.js';

const POLICY = `
policy:
  rules:
    - name: prod-deploys
      when: tool == "deploy"
      effect: review
      workflow: ops-only
workflows:
  ops-only:
    stages:
      - approvers: { groups: [ops] }
`;

let idp: TestIdp;
before(async () => {
  idp = await TestIdp.start();
});
after(async () => {
  await idp.stop();
});

function withSso(overrides: Partial<OidcConfigFile> = {}): (c: Config) => Config {
  return (c) => {
    const withPolicyConfig = withPolicy(POLICY)(c);
    const file: OidcConfigFile = {
      issuer: idp.issuer,
      client_id: 'countersign',
      scopes: ['openid', 'email', 'profile', 'groups'],
      groups_claim: 'groups',
      group_mapping: [{ idp_group: 'cs-approvers', groups: ['ops'], role: 'reviewer' }],
      ...overrides,
    };
    return {
      ...withPolicyConfig,
      server: { ...c.server, publicUrl: PUBLIC_URL },
      oidc: resolveOidc(file, PUBLIC_URL, { COUNTERSIGN_OIDC_CLIENT_SECRET: CLIENT_SECRET }, '/'),
    };
  };
}

function cookies(headers: Record<string, unknown>): Map<string, string> {
  const raw = headers['set-cookie'];
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [String(raw)];
  const out = new Map<string, string>();
  for (const c of list as string[]) {
    const [pair] = c.split(';');
    const eq = (pair ?? '').indexOf('=');
    out.set((pair as string).slice(0, eq), (pair as string).slice(eq + 1));
  }
  return out;
}

/** The browser's trip: the gateway's login route, the IdP's pages, back to the callback (not yet called). */
async function startAndAuthorize(w: World, sub: string, returnTo = '/inbox') {
  const start = await call(w, 'GET', `/v1/auth/oidc/login?return_to=${encodeURIComponent(returnTo)}`);
  assert.equal(start.status, 302, JSON.stringify(start.body));
  const state = cookies(start.headers).get('cs_oidc_state') as string;
  assert.ok(state, 'the login route binds the sign-in to this browser');
  const back = await idp.authorize(String(start.headers.location), sub);
  return { callback: `${back.pathname}${back.search}`, state };
}

async function callback(w: World, path: string, state: string | undefined) {
  return call(w, 'GET', path, undefined, undefined, state === undefined ? {} : { cookie: `cs_oidc_state=${state}` });
}

async function signIn(w: World, sub: string, returnTo = '/inbox') {
  const { callback: path, state } = await startAndAuthorize(w, sub, returnTo);
  return callback(w, path, state);
}

/** A person's groups as the gateway stores them (the one place these tests read how groups are stored). */
async function groupsOf(w: World, email: string): Promise<string[]> {
  const u = await userByEmail(w, email);
  return u ? (JSON.parse(u.groups) as string[]) : [];
}

const userByEmail = (w: World, email: string) =>
  w.gw.deps.db.read.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();

forEachDialect('sign-in with an OpenID Connect provider', (dialect) => {
  const open: World[] = [];
  afterEach(async () => {
    for (const w of open.splice(0)) await w.close();
    idp.rewriteIdToken = undefined;
    idp.signWithForeignKey = false;
    idp.accounts.clear();
  });
  async function setup(overrides: Partial<OidcConfigFile> = {}, clock?: FakeClock) {
    const w = await world(dialect, { config: withSso(overrides), ...(clock ? { clock } : {}) });
    open.push(w);
    return w;
  }

  test('a new person signs in through the IdP, is provisioned with the mapped groups and role, linked by issuer and subject, and gets a session', async () => {
    const w = await setup({ jit_provisioning: true });
    idp.accounts.set('sub-dana', { email: 'Dana@Example.com', name: 'Dana', groups: ['cs-approvers', 'unrelated'] });
    const res = await signIn(w, 'sub-dana', '/actions?status=pending');
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
    const res = await signIn(w, 'sub-erin');
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
    const res = await signIn(w, 'sub-impostor');
    assert.equal(res.status, 403);
    assert.match(res.body.error.message, /not linked/);
    const links = await w.gw.deps.db.read.selectFrom('linked_identities').selectAll().execute();
    assert.equal(links.length, 0);
  });

  test('an ID token issued for another audience is refused', async () => {
    const w = await setup({ jit_provisioning: true });
    idp.accounts.set('sub-fay', { email: 'fay@example.com', groups: [] });
    idp.rewriteIdToken = (c) => ({ ...c, aud: 'some-other-client' });
    const res = await signIn(w, 'sub-fay');
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
    const res = await signIn(w, 'sub-gus');
    assert.equal(res.status, 401, JSON.stringify(res.body));
    assert.equal(await userByEmail(w, 'gus@example.com'), undefined);
  });

  test('an expired ID token is refused', async () => {
    const clock = new FakeClock(Date.now());
    const w = await setup({ jit_provisioning: true, login_timeout: 86_400_000 }, clock);
    idp.accounts.set('sub-hal', { email: 'hal@example.com', groups: [] });
    const { callback: path, state } = await startAndAuthorize(w, 'sub-hal');
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
    const { callback: path, state } = await startAndAuthorize(w, 'sub-ivy');
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
    const { callback: path } = await startAndAuthorize(w, 'sub-jo');
    const res = await callback(w, path, undefined);
    assert.equal(res.status, 400);
    assert.match(res.body.error.message, /not started in this browser/);
  });

  test('a person removed from a group at the IdP loses the right to approve at their next sign-in', async () => {
    const w = await setup({ jit_provisioning: true });
    idp.accounts.set('sub-kim', { email: 'kim@example.com', groups: ['cs-approvers'] });
    assert.equal((await signIn(w, 'sub-kim')).status, 302);
    const key = (await issueKey(w.gw.deps, ADMIN, { for: 'kim@example.com' })).apiKey;
    const first = await propose(w);
    assert.equal(first.body.status, 'pending');
    const approved = await review(w, first.body.id, key, { decision: 'approve' });
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.equal(approved.body.status, 'approved');

    idp.accounts.set('sub-kim', { email: 'kim@example.com', groups: [] });
    assert.equal((await signIn(w, 'sub-kim')).status, 302);
    const kim = await userByEmail(w, 'kim@example.com');
    assert.deepEqual({ role: kim?.role, groups: await groupsOf(w, 'kim@example.com') }, { role: 'viewer', groups: [] });
    const second = await propose(w);
    const refused = await review(w, second.body.id, key, { decision: 'approve' });
    assert.equal(refused.status, 403);
    const changes = (await auditRows(w)).filter((r) => r.event === 'user.groups_changed');
    assert.deepEqual(JSON.parse(changes.at(-1)?.data as string).to, []);
  });

  test('an admin links an existing person to their IdP account, who can then sign in without just-in-time provisioning; the link is audited', async () => {
    const w = await setup();
    idp.accounts.set('sub-alice', { email: 'someone-else@example.com', groups: ['cs-approvers'] });
    const linked = await linkIdentity(w.gw.deps, ADMIN, { email: 'alice@example.com', subject: 'sub-alice' });
    assert.deepEqual(linked, { email: 'alice@example.com', issuer: idp.issuer, subject: 'sub-alice' });
    const res = await signIn(w, 'sub-alice');
    assert.equal(res.status, 302, JSON.stringify(res.body));
    assert.deepEqual(await groupsOf(w, 'alice@example.com'), ['ops'], 'groups follow the IdP, the email it asserts does not matter');
    const link = (await auditRows(w)).find((r) => r.event === 'identity.linked');
    assert.equal(link?.actor_type, 'admin');
  });

  test('linking an IdP account that is already linked is a conflict, and an unlinked account can no longer sign in', async () => {
    const w = await setup();
    idp.accounts.set('sub-carol', { email: 'carol@example.com', groups: [] });
    await linkIdentity(w.gw.deps, ADMIN, { email: 'carol@example.com', subject: 'sub-carol' });
    await assert.rejects(
      linkIdentity(w.gw.deps, ADMIN, { email: 'alice@example.com', subject: 'sub-carol' }),
      (e: CsError) => e.code === 'conflict',
    );
    await unlinkIdentity(w.gw.deps, ADMIN, { subject: 'sub-carol' });
    assert.ok((await auditRows(w)).some((r) => r.event === 'identity.unlinked'));
    assert.equal((await signIn(w, 'sub-carol')).status, 403);
    await assert.rejects(unlinkIdentity(w.gw.deps, ADMIN, { subject: 'sub-carol' }), (e: CsError) => e.code === 'not_found');
  });

  test('a disabled person cannot sign in with SSO', async () => {
    const w = await setup();
    idp.accounts.set('sub-alice', { email: 'alice@example.com', groups: [] });
    await linkIdentity(w.gw.deps, ADMIN, { email: 'alice@example.com', subject: 'sub-alice' });
    await disableUser(w.gw.deps, ADMIN, 'alice@example.com');
    const res = await signIn(w, 'sub-alice');
    assert.equal(res.status, 403);
    assert.match(res.body.error.message, /disabled/);
  });

  test('a sign-in that asked the IdP for a fresh authentication (max_age) records its auth_time as the strong authentication; a plain one does not', async () => {
    const w = await setup({ jit_provisioning: true });
    idp.accounts.set('sub-lee', { email: 'lee@example.com', groups: [] });
    assert.equal((await signIn(w, 'sub-lee')).status, 302);
    const start = await call(w, 'GET', '/v1/auth/oidc/login?max_age=0');
    assert.equal(new URL(String(start.headers.location)).searchParams.get('max_age'), '0');
    const back = await idp.authorize(String(start.headers.location), 'sub-lee');
    const res = await callback(w, `${back.pathname}${back.search}`, cookies(start.headers).get('cs_oidc_state'));
    assert.equal(res.status, 302, JSON.stringify(res.body));
    const lee = await userByEmail(w, 'lee@example.com');
    const sessions = await w.gw.deps.db.read
      .selectFrom('sessions')
      .select('strong_at')
      .where('user_id', '=', lee?.id ?? '')
      .orderBy('created_at')
      .execute();
    assert.equal(sessions.length, 2);
    assert.equal(sessions[0]?.strong_at, null);
    assert.ok(Number(sessions[1]?.strong_at) > 0);
  });

  test('the IdP cannot demote the last enabled admin; another admin can be demoted', async () => {
    const w = await setup();
    idp.accounts.set('sub-ada', { email: 'ada@example.com', groups: [] });
    await linkIdentity(w.gw.deps, ADMIN, { email: 'ada@example.com', subject: 'sub-ada' });
    assert.equal((await signIn(w, 'sub-ada')).status, 302);
    assert.equal((await userByEmail(w, 'ada@example.com'))?.role, 'admin');
    assert.ok((await auditRows(w)).some((r) => r.event === 'oidc.last_admin_kept'));
    await addPeople(w, [{ email: 'second-admin@example.com', role: 'admin' }]);
    assert.equal((await signIn(w, 'sub-ada')).status, 302);
    assert.equal((await userByEmail(w, 'ada@example.com'))?.role, 'viewer');
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
