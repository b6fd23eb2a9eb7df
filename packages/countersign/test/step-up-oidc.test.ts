import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { FakeClock } from '../src/lib/clock.js';
import { auditRows, call, forEachDialect, propose, type World, withPolicy, world } from './helpers.js';
import { callback, cookies, signIn, userByEmail, withSso } from './oidc-flow.js';
import { PUBLIC_URL, TestIdp } from './oidc-idp.js';
import { STEP_UP_POLICY } from './step-up-helpers.js';

// Re-authenticating for a step-up stage through the organisation's IdP (a real oidc-provider on
// loopback): the refusal names the sign-in link with max_age, the IdP authenticates the person again,
// and the session that sign-in opens carries the IdP's auth_time as its strong sign-in, even when the
// ID token says nothing about how (no amr, no acr).

let idp: TestIdp;
before(async () => {
  idp = await TestIdp.start();
});
after(async () => {
  await idp.stop();
});

const MAX_AGE_MS = 5 * 60_000;
const prod = { tool: 'deploy', arguments: { env: 'production' } };

forEachDialect('step-up by re-authenticating at the identity provider', (dialect) => {
  const open: World[] = [];
  /** The ID tokens the gateway received, as the IdP issued them (amr and acr removed). */
  const tokens: Record<string, unknown>[] = [];
  afterEach(async () => {
    for (const w of open.splice(0)) await w.close();
    idp.rewriteIdToken = undefined;
    idp.accounts.clear();
    tokens.length = 0;
  });
  async function setup(clock?: FakeClock) {
    const w = await world(dialect, {
      config: (c) => withPolicy(STEP_UP_POLICY)(withSso(idp, { jit_provisioning: true })(c)),
      ...(clock ? { clock } : {}),
    });
    open.push(w);
    idp.accounts.set('sub-dana', { email: 'dana@example.com', name: 'Dana', groups: ['cs-approvers'] });
    // An IdP that says nothing about how the person authenticated: only max_age can make the sign-in strong.
    idp.rewriteIdToken = ({ amr: _amr, acr: _acr, ...claims }) => {
      tokens.push(claims);
      return claims;
    };
    return w;
  }
  /** The headers a console page on the gateway's origin sends with the session a sign-in just set. */
  function browser(res: { headers: Record<string, unknown> }): Record<string, string> {
    const set = cookies(res.headers);
    const session = set.get('cs_session');
    const csrf = set.get('cs_csrf');
    assert.ok(session && csrf, 'the sign-in set the session cookies');
    return { cookie: `cs_session=${session}; cs_csrf=${csrf}`, 'x-csrf-token': csrf, origin: PUBLIC_URL };
  }
  const approve = (w: World, id: string, headers: Record<string, string>) =>
    call(w, 'POST', `/v1/actions/${id}/reviews`, undefined, { decision: 'approve' }, headers);
  /** The browser follows a sign-in link of the gateway's through the IdP and back. */
  async function followSignIn(w: World, link: string) {
    const start = await call(w, 'GET', link);
    assert.equal(start.status, 302, JSON.stringify(start.body));
    const back = await idp.authorize(String(start.headers.location), 'sub-dana');
    const res = await callback(w, `${back.pathname}${back.search}`, cookies(start.headers).get('cs_oidc_state'));
    assert.equal(res.status, 302, JSON.stringify(res.body));
    return { start, res };
  }

  test('a plain SSO session is refused with the link to re-authenticate; after following it, the new session approves and the audit says how', async () => {
    const w = await setup();
    const first = await signIn(w, idp, 'sub-dana');
    assert.equal(first.status, 302, JSON.stringify(first.body));
    const { body: a } = await propose(w, prod);

    const refused = await approve(w, a.id, browser(first));
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.equal(refused.body.error.code, 'step_up_required');
    const details = refused.body.error.details;
    assert.deepEqual([details.credential, details.method, details.strong_at], ['session', 'oidc', null]);
    assert.equal(details.reauthenticate.oidc, `/v1/auth/oidc/login?max_age=0&return_to=%2Factions%2F${a.id}`);
    const still = await call(w, 'GET', `/v1/actions/${a.id}`, w.keys.ada);
    assert.deepEqual([still.body.status, still.body.reviews.length], ['pending', 0], 'the refused vote left nothing');

    const { start, res } = await followSignIn(w, details.reauthenticate.oidc);
    assert.equal(new URL(String(start.headers.location)).searchParams.get('max_age'), '0', 'the IdP is asked to authenticate now');
    assert.equal(res.headers.location, `/actions/${a.id}`, 'back to the action');
    const token = tokens.at(-1) ?? {};
    assert.equal('amr' in token || 'acr' in token, false, 'the ID token said nothing about how');
    assert.equal(typeof token.auth_time, 'number');
    const strongAt = (token.auth_time as number) * 1000;

    const approved = await approve(w, a.id, browser(res));
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.equal(approved.body.status, 'approved');
    const entry = JSON.parse((await auditRows(w, a.id)).find((r) => r.event === 'action.reviewed')?.data as string);
    assert.equal(entry.reviewer, 'dana@example.com');
    assert.deepEqual(entry.auth, { kind: 'session', method: 'oidc', strong_at: strongAt });
    assert.deepEqual(entry.step_up, { max_age_ms: MAX_AGE_MS, strong_at: strongAt });
  });

  test('an IdP re-authentication grows stale: once max_age has passed by the gateway’s clock, the same session is refused', async () => {
    const clock = new FakeClock(Date.now());
    const w = await setup(clock);
    const { res } = await followSignIn(w, '/v1/auth/oidc/login?max_age=0');
    const session = browser(res);
    const dana = await userByEmail(w, 'dana@example.com');
    const row = await w.gw.deps.db.read
      .selectFrom('sessions')
      .select('strong_at')
      .where('user_id', '=', dana?.id ?? '')
      .executeTakeFirstOrThrow();
    const strongAt = Number(row.strong_at);
    assert.equal(strongAt, (tokens.at(-1)?.auth_time as number) * 1000, "the session's strong sign-in is the IdP's auth_time");

    const { body: early } = await propose(w, prod);
    assert.equal((await approve(w, early.id, session)).status, 200, 'fresh: approved');

    const { body: late } = await propose(w, prod);
    await clock.advance(strongAt + MAX_AGE_MS + 1000 - clock.now());
    const refused = await approve(w, late.id, session);
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.equal(refused.body.error.code, 'step_up_required');
    assert.equal(refused.body.error.details.strong_at, new Date(strongAt).toISOString());
    assert.match(refused.body.error.message, /last authenticated strongly 301s ago/);
  });
});
