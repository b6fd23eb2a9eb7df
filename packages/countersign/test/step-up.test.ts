import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { reviewAction } from '../src/domain/actions/review-action.js';
import type { UserPrincipal } from '../src/domain/identities/principal.js';
import { FakeClock } from '../src/lib/clock.js';
import { CsError } from '../src/lib/errors.js';
import { auditRows, call, forEachDialect, propose, review, type World, withPolicy, world } from './helpers.js';
import { browserCall, fastPasswords, withPassword } from './session-helpers.js';
import { STEP_UP_POLICY, strongSession } from './step-up-helpers.js';

// Step-up: a stage can require each approver to have authenticated strongly and recently. Approving
// there needs a browser session whose strong sign-in (passkey, or the IdP with max_age) is within
// max_age by the gateway's clock; API keys and chat identities never satisfy it; denying never needs it.

const MAX_AGE_MS = 5 * 60_000;
const prod = { tool: 'deploy', arguments: { env: 'production' } };
const staging = { tool: 'deploy', arguments: { env: 'staging' } };

forEachDialect('step-up for risky approvals', (dialect) => {
  const open: World[] = [];
  afterEach(async () => {
    for (const w of open.splice(0)) await w.close();
  });
  async function setup(clock = new FakeClock(Date.UTC(2026, 0, 5, 9))) {
    const w = await world(dialect, { config: (c) => fastPasswords(withPolicy(STEP_UP_POLICY)(c)), clock });
    open.push(w);
    return { w, clock };
  }
  const approveWith = (w: World, id: string, headers: Record<string, string>, body: Record<string, unknown> = {}) =>
    call(w, 'POST', `/v1/actions/${id}/reviews`, undefined, { decision: 'approve', ...body }, headers);
  /** What "nothing was written" compares: the action's version and votes, and the audit log's length. */
  async function snapshot(w: World, id: string) {
    const a = (await call(w, 'GET', `/v1/actions/${id}`, w.keys.ada)).body;
    return { status: a.status, version: a.version, reviews: a.reviews.length, log: (await auditRows(w)).length };
  }
  async function reviewedEntry(w: World, id: string) {
    const row = (await auditRows(w, id)).find((r) => r.event === 'action.reviewed');
    assert.ok(row, 'the vote is audited');
    return JSON.parse(row.data as string);
  }

  test('the action view shows a stage’s step-up requirement, and null for a stage without one', async () => {
    const { w } = await setup();
    const risky = await propose(w, prod);
    assert.deepEqual(risky.body.workflow.stage.step_up, { max_age_ms: MAX_AGE_MS });
    const plain = await propose(w, staging);
    assert.equal(plain.body.workflow.stage.step_up, null);
  });

  test('an API-key reviewer is refused on a step-up stage with step_up_required and what to do, and nothing is written', async () => {
    const { w } = await setup();
    const { body: a } = await propose(w, prod);
    const before = await snapshot(w, a.id);
    const r = await review(w, a.id, w.keys.alice, { decision: 'approve' });
    assert.equal(r.status, 403, JSON.stringify(r.body));
    assert.equal(r.body.error.code, 'step_up_required');
    assert.match(r.body.error.message, /stage "sign-off" needs a strong sign-in within the last 5m: an API key never satisfies it/);
    assert.deepEqual(r.body.error.details, {
      stage: 'sign-off',
      step_up: { max_age_ms: MAX_AGE_MS },
      credential: 'api_key',
      method: null,
      strong_at: null,
      // No SSO on this gateway, and an API key has no session for a passkey to refresh.
      reauthenticate: { oidc: null, passkey: null },
    });
    assert.deepEqual(await snapshot(w, a.id), before);
  });

  test('the same API key may deny on a step-up stage: denying is never harder than approving', async () => {
    const { w } = await setup();
    const { body: a } = await propose(w, prod);
    const r = await review(w, a.id, w.keys.alice, { decision: 'deny', reason: 'not today' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.status, 'denied');
    const entry = await reviewedEntry(w, a.id);
    assert.deepEqual(entry.auth, { kind: 'api_key', key_prefix: entry.auth.key_prefix });
    assert.equal(entry.step_up, undefined, 'no step-up was required, so none is recorded');
  });

  test('a password-only session has no strong sign-in and is refused, pointed at the passkey re-authentication', async () => {
    const { w } = await setup();
    const { body: a } = await propose(w, prod);
    const browser = await withPassword(w, 'alice@example.com');
    const before = await snapshot(w, a.id);
    const r = await browserCall(w, browser, 'POST', `/v1/actions/${a.id}/reviews`, { decision: 'approve' });
    assert.equal(r.status, 403, JSON.stringify(r.body));
    assert.equal(r.body.error.code, 'step_up_required');
    assert.match(r.body.error.message, /has no strong sign-in/);
    assert.equal(r.body.error.details.credential, 'session');
    assert.equal(r.body.error.details.strong_at, null);
    assert.deepEqual(r.body.error.details.reauthenticate, {
      oidc: null,
      passkey: { options: '/v1/me/reauthenticate/passkey/options', verify: '/v1/me/reauthenticate/passkey/verify' },
    });
    assert.deepEqual(await snapshot(w, a.id), before);
  });

  test('a session that authenticated strongly within max_age approves, and the vote’s audit entry says how and what was required', async () => {
    const { w, clock } = await setup();
    const strongAt = clock.now();
    const session = await strongSession(w, strongAt);
    const { body: a } = await propose(w, prod);
    await clock.advance(MAX_AGE_MS); // exactly max_age old still counts
    const r = await approveWith(w, a.id, session);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.status, 'approved');
    assert.equal(r.body.reviews[0].channel, 'web');
    const entry = await reviewedEntry(w, a.id);
    assert.deepEqual(entry.auth, { kind: 'session', method: 'passkey', strong_at: strongAt });
    assert.deepEqual(entry.step_up, { max_age_ms: MAX_AGE_MS, strong_at: strongAt });
  });

  test('a strong sign-in one millisecond older than max_age by the gateway’s clock is refused and says how old it is', async () => {
    const { w, clock } = await setup();
    const strongAt = clock.now();
    const session = await strongSession(w, strongAt);
    const { body: a } = await propose(w, prod);
    await clock.advance(MAX_AGE_MS + 1);
    const before = await snapshot(w, a.id);
    const r = await approveWith(w, a.id, session);
    assert.equal(r.status, 403, JSON.stringify(r.body));
    assert.equal(r.body.error.code, 'step_up_required');
    assert.match(r.body.error.message, /last authenticated strongly 5m ago/);
    assert.equal(r.body.error.details.method, 'passkey');
    assert.equal(r.body.error.details.strong_at, new Date(strongAt).toISOString());
    assert.deepEqual(await snapshot(w, a.id), before);
  });

  test('a chat identity never satisfies a step-up stage, but may deny there', async () => {
    const { w } = await setup();
    const onSlack: UserPrincipal = {
      type: 'user',
      id: w.ids.alice,
      email: 'alice@example.com',
      name: 'Alice',
      role: 'reviewer',
      groups: [],
      credential: { kind: 'chat', platform: 'slack', externalUserId: 'U0ALICE' },
    };
    const { body: a } = await propose(w, prod);
    const before = await snapshot(w, a.id);
    await assert.rejects(reviewAction(w.gw.deps, onSlack, a.id, { decision: 'approve' }), (e: unknown) => {
      assert.ok(e instanceof CsError);
      assert.equal(e.code, 'step_up_required');
      assert.match(e.message, /a slack identity never satisfies it/);
      assert.equal(e.details?.credential, 'chat');
      return true;
    });
    assert.deepEqual(await snapshot(w, a.id), before);
    const denied = await reviewAction(w.gw.deps, onSlack, a.id, { decision: 'deny' });
    assert.equal(denied.status, 'denied');
    assert.equal(denied.reviews[0]?.channel, 'slack');
  });

  test('a stage without step_up accepts an API key exactly as before', async () => {
    const { w } = await setup();
    const { body: a } = await propose(w, staging);
    const r = await review(w, a.id, w.keys.alice, { decision: 'approve' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.status, 'approved');
    assert.equal((await reviewedEntry(w, a.id)).step_up, undefined);
  });

  test('two fresh sessions racing to approve: the first vote decides, the second is a conflict and records nothing', async () => {
    const { w, clock } = await setup();
    const mine = await strongSession(w, clock.now());
    const { body: a } = await propose(w, prod);
    const [one, two] = await Promise.all([approveWith(w, a.id, mine), approveWith(w, a.id, mine)]);
    assert.deepEqual([one.status, two.status].sort(), [200, 409]);
    const reviewed = (await auditRows(w, a.id)).filter((r) => r.event === 'action.reviewed');
    assert.equal(reviewed.length, 1);
  });
});
