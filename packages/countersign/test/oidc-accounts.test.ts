import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import type { OidcConfigFile } from '../src/config/oidc-schema.js';
import { disableUser } from '../src/domain/identities/disable-user.js';
import { linkIdentity, unlinkIdentity } from '../src/domain/identities/oidc/link-identity.js';
import type { FakeClock } from '../src/lib/clock.js';
import type { CsError } from '../src/lib/errors.js';
import { ADMIN, addPeople, auditRows, call, forEachDialect, type World, world } from './helpers.js';
import { callback, cookies, groupsOf, signIn, userByEmail, withSso } from './oidc-flow.js';
import { TestIdp } from './oidc-idp.js';

let idp: TestIdp;
before(async () => {
  idp = await TestIdp.start();
});
after(async () => {
  await idp.stop();
});

forEachDialect('accounts signing in with an OpenID Connect provider', (dialect) => {
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

  test('an admin links an existing person to their IdP account, who can then sign in without just-in-time provisioning; the link is audited', async () => {
    const w = await setup();
    idp.accounts.set('sub-alice', { email: 'someone-else@example.com', groups: ['cs-approvers'] });
    const linked = await linkIdentity(w.gw.deps, ADMIN, { email: 'alice@example.com', subject: 'sub-alice' });
    assert.deepEqual(linked, { email: 'alice@example.com', issuer: idp.issuer, subject: 'sub-alice' });
    const res = await signIn(w, idp, 'sub-alice');
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
    assert.equal((await signIn(w, idp, 'sub-carol')).status, 403);
    await assert.rejects(unlinkIdentity(w.gw.deps, ADMIN, { subject: 'sub-carol' }), (e: CsError) => e.code === 'not_found');
  });

  test("an admin links, lists and unlinks a person's IdP accounts over HTTP, each change audited; a reviewer cannot", async () => {
    const w = await setup();
    idp.accounts.set('sub-carol', { email: 'carol@example.com', groups: [] });
    const linked = await call(w, 'POST', '/v1/admin/users/carol@example.com/identities', w.keys.ada, { subject: 'sub-carol' });
    assert.equal(linked.status, 201, JSON.stringify(linked.body));
    assert.deepEqual(linked.body, { email: 'carol@example.com', issuer: idp.issuer, subject: 'sub-carol' });
    assert.equal((await signIn(w, idp, 'sub-carol')).status, 302);
    const listed = await call(w, 'GET', '/v1/admin/users/carol@example.com/identities', w.keys.ada);
    assert.equal(listed.status, 200);
    assert.equal(listed.body.items.length, 1);
    assert.equal(listed.body.items[0].subject, 'sub-carol');
    assert.ok(listed.body.items[0].last_sign_in_at, 'the sign-in is shown');
    const again = await call(w, 'POST', '/v1/admin/users/alice@example.com/identities', w.keys.ada, { subject: 'sub-carol' });
    assert.equal(again.status, 409);
    const byReviewer = await call(w, 'POST', '/v1/admin/users/carol@example.com/identities/unlink', w.keys.alice, { subject: 'sub-carol' });
    assert.equal(byReviewer.status, 403);
    const wrongPerson = await call(w, 'POST', '/v1/admin/users/alice@example.com/identities/unlink', w.keys.ada, { subject: 'sub-carol' });
    assert.equal(wrongPerson.status, 404, "another person's link is not found through this person");
    const unlinked = await call(w, 'POST', '/v1/admin/users/carol@example.com/identities/unlink', w.keys.ada, { subject: 'sub-carol' });
    assert.equal(unlinked.status, 200);
    assert.equal((await signIn(w, idp, 'sub-carol')).status, 403);
    const entries = (await auditRows(w)).filter((r) => r.event === 'identity.linked' || r.event === 'identity.unlinked');
    assert.deepEqual(
      entries.map((r) => [r.event, r.actor_type]),
      [
        ['identity.linked', 'user'],
        ['identity.unlinked', 'user'],
      ],
    );
  });

  test('a disabled person cannot sign in with SSO', async () => {
    const w = await setup();
    idp.accounts.set('sub-alice', { email: 'alice@example.com', groups: [] });
    await linkIdentity(w.gw.deps, ADMIN, { email: 'alice@example.com', subject: 'sub-alice' });
    await disableUser(w.gw.deps, ADMIN, 'alice@example.com');
    const res = await signIn(w, idp, 'sub-alice');
    assert.equal(res.status, 403);
    assert.match(res.body.error.message, /disabled/);
  });

  test('a sign-in that asked the IdP for a fresh authentication (max_age) records its auth_time as the strong authentication; a plain one does not', async () => {
    const w = await setup({ jit_provisioning: true });
    idp.accounts.set('sub-lee', { email: 'lee@example.com', groups: [] });
    assert.equal((await signIn(w, idp, 'sub-lee')).status, 302);
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
    assert.equal((await signIn(w, idp, 'sub-ada')).status, 302);
    assert.equal((await userByEmail(w, 'ada@example.com'))?.role, 'admin');
    assert.ok((await auditRows(w)).some((r) => r.event === 'oidc.last_admin_kept'));
    await addPeople(w, [{ email: 'second-admin@example.com', role: 'admin' }]);
    assert.equal((await signIn(w, idp, 'sub-ada')).status, 302);
    assert.equal((await userByEmail(w, 'ada@example.com'))?.role, 'viewer');
  });
});
