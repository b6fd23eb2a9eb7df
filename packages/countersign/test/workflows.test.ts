import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { reviewAction } from '../src/domain/actions/review-action.js';
import { authenticate } from '../src/domain/identities/authenticate.js';
import { FakeClock } from '../src/lib/clock.js';
import type { CsError } from '../src/lib/errors.js';
import { EXAMPLE, WORKED } from './fixtures/policies.js';
import { addPeople, auditRows, call, forEachDialect, propose, review, type World, withPolicy, world } from './helpers.js';

const MIN = 60_000;
const prodDeploy = { tool: 'deploy', arguments: { env: 'production', version: '1.4.2' } };

forEachDialect('workflows', (dialect) => {
  const open: World[] = [];
  afterEach(async () => {
    for (const w of open.splice(0)) await w.close();
  });
  async function setup(policy = EXAMPLE, clock?: FakeClock) {
    const w = await world(dialect, { config: withPolicy(policy), ...(clock ? { clock } : {}) });
    open.push(w);
    const k = await addPeople(w, [
      { email: 'sre1@example.com', groups: ['sre'] },
      { email: 'sre2@example.com', groups: ['sre', 'oncall'] },
      { email: 'mgr@example.com', groups: ['eng-managers'] },
    ]);
    return { w, sre1: k['sre1@example.com'] as string, sre2: k['sre2@example.com'] as string, mgr: k['mgr@example.com'] as string };
  }
  const sweep = async (w: World) => {
    await w.gw.scheduler.tick();
    await w.gw.scheduler.tick();
  };
  const get = async (w: World, id: string) => (await call(w, 'GET', `/v1/actions/${id}`, w.keys.ada)).body;

  test('the example config loads and behaves as written', async () => {
    const { w } = await setup();
    const read = await propose(w, { tool: 'list_pods', arguments: {}, annotations: { readOnlyHint: true } });
    assert.equal(read.body.status, 'approved');
    assert.equal(read.body.policy.rule, 'reads-pass');

    const rm = await propose(w, { tool: 'shell', arguments: { command: 'npm test && rm -rf /' } });
    assert.equal(rm.body.status, 'denied');
    assert.equal(rm.body.policy.rule, 'no-rm');
    assert.equal(rm.body.reason, 'rm is never run by agents');

    const prod = await propose(w, prodDeploy);
    assert.equal(prod.body.status, 'pending');
    assert.deepEqual(
      { rule: prod.body.policy.rule, workflow: prod.body.workflow.name, quorum: prod.body.workflow.stage.quorum },
      { rule: 'prod-deploys', workflow: 'two-sres', quorum: 2 },
    );
    assert.deepEqual(prod.body.workflow.stage.approvers, { users: [], groups: ['sre'], roles: [], owner: false });
    assert.equal(prod.body.workflow.stage.still_needed, 2);
    assert.equal(Date.parse(prod.body.expires_at) - Date.parse(prod.body.created_at), 60 * MIN);
    assert.match(prod.body.policy.hash, /^[0-9a-f]{64}$/);

    const staging = await propose(w, { tool: 'deploy', arguments: { env: 'staging' } });
    assert.equal(staging.body.workflow.name, 'default');
    assert.equal(staging.body.policy.rule, 'default');
  });

  test('quorum 2 needs two different people, and a second vote by the same person is refused', async () => {
    const { w, sre1, sre2 } = await setup();
    const { body: a } = await propose(w, prodDeploy);
    const first = await review(w, a.id, sre1, { decision: 'approve' });
    assert.equal(first.status, 200);
    assert.equal(first.body.status, 'pending');
    assert.deepEqual(first.body.workflow.stage.approvals, ['sre1@example.com']);
    assert.equal(first.body.workflow.stage.still_needed, 1);

    const again = await review(w, a.id, sre1, { decision: 'approve' });
    assert.equal(again.status, 409);
    assert.match(again.body.error.message, /already voted/);
    assert.equal((await get(w, a.id)).version, first.body.version, 'the refused vote changed nothing');

    const second = await review(w, a.id, sre2, { decision: 'approve', reason: 'checked the canary' });
    assert.equal(second.body.status, 'approved');
    assert.equal(second.body.reviews.length, 2);
    const events = (await auditRows(w, a.id)).map((e) => e.event);
    assert.deepEqual(events, [
      'action.created',
      'action.reviewed',
      'action.reviewed',
      'action.stage_approved',
      'action.approved',
      'receipt.issued',
    ]);
  });

  test('a vote from someone not eligible for the current stage is refused and changes nothing', async () => {
    const { w, mgr } = await setup();
    const { body: a } = await propose(w, prodDeploy);
    for (const key of [w.keys.alice, mgr]) {
      const r = await review(w, a.id, key, { decision: 'deny', reason: 'not mine to decide' });
      assert.equal(r.status, 403);
      assert.match(r.body.error.message, /not an approver of stage "stage-1"; it needs group sre/);
    }
    const now = await get(w, a.id);
    assert.equal(now.status, 'pending');
    assert.equal(now.version, 1);
    assert.equal(now.reviews.length, 0);
  });

  test('a vote after the decision is refused', async () => {
    const { w, sre1, sre2 } = await setup();
    const { body: a } = await propose(w, prodDeploy);
    await review(w, a.id, sre1, { decision: 'deny', reason: 'freeze' });
    const late = await review(w, a.id, sre2, { decision: 'approve' });
    assert.equal(late.status, 409);
    assert.equal((await get(w, a.id)).status, 'denied');
  });

  test('any eligible deny ends the action as denied, even after an approval', async () => {
    const { w, sre1, sre2 } = await setup();
    const { body: a } = await propose(w, prodDeploy);
    await review(w, a.id, sre1, { decision: 'approve' });
    const d = await review(w, a.id, sre2, { decision: 'deny', reason: 'not during the freeze' });
    assert.equal(d.body.status, 'denied');
    assert.equal(d.body.reason, 'not during the freeze');
    assert.equal(d.body.decided_by.label, 'sre2@example.com');
  });

  test('deny wins a deny/approve tie: sent together, the deny commits and the approve is refused, every round', async () => {
    const { w, sre1, sre2 } = await setup();
    const sre3 = (await addPeople(w, [{ email: 'sre3@example.com', groups: ['sre'] }]))['sre3@example.com'] as string;
    const as = (key: string) => authenticate(w.gw.deps.db.read, key);
    const [p2, p3, alice, carol] = await Promise.all([as(sre2), as(sre3), as(w.keys.alice), as(w.keys.carol)]);
    for (let round = 0; round < 8; round++) {
      const { body: a } = await propose(w, { ...prodDeploy, arguments: { ...prodDeploy.arguments, round } });
      await review(w, a.id, sre1, { decision: 'approve' });
      const { body: b } = await propose(w, { tool: 'deploy', arguments: { env: 'staging', round } });
      // The approve that would complete each review is sent first.
      const results = await Promise.allSettled([
        reviewAction(w.gw.deps, p2, a.id, { decision: 'approve' }),
        reviewAction(w.gw.deps, p3, a.id, { decision: 'deny', reason: 'tie' }),
        reviewAction(w.gw.deps, alice, b.id, { decision: 'approve' }),
        reviewAction(w.gw.deps, carol, b.id, { decision: 'deny', reason: 'tie' }),
      ]);
      assert.deepEqual(
        results.map((r) => (r.status === 'fulfilled' ? r.value.status : (r.reason as CsError).code)),
        ['conflict', 'denied', 'conflict', 'denied'],
        `round ${round}`,
      );
    }
  });

  test('approve and deny racing over HTTP end in exactly one decision, and a committed deny is never overturned', async () => {
    const { w } = await setup();
    for (let round = 0; round < 8; round++) {
      const { body: b } = await propose(w, { tool: 'deploy', arguments: { env: 'staging', round } });
      const [approve, deny] = await Promise.all([
        review(w, b.id, w.keys.alice, { decision: 'approve' }),
        review(w, b.id, w.keys.carol, { decision: 'deny', reason: 'race' }),
      ]);
      assert.deepEqual([approve.status, deny.status].sort(), [200, 409], `round ${round}`);
      const final = await get(w, b.id);
      assert.equal(final.status, deny.status === 200 ? 'denied' : 'approved');
    }
  });

  test('an unanswered stage escalates on time and then expires denied', async () => {
    const clock = new FakeClock();
    const { w, mgr } = await setup(EXAMPLE, clock);
    const { body: a } = await propose(w, prodDeploy);
    assert.equal((await review(w, a.id, mgr, { decision: 'approve' })).status, 403, 'managers are not approvers yet');

    await clock.advance(15 * MIN - 1);
    await sweep(w);
    assert.equal((await get(w, a.id)).workflow.stage.escalations, 0, 'one ms before the time-out nothing has escalated');

    await clock.advance(1);
    await sweep(w);
    const escalated = await get(w, a.id);
    assert.equal(escalated.status, 'pending');
    assert.equal(escalated.workflow.stage.escalations, 1);
    assert.deepEqual(escalated.workflow.stage.approvers.groups, ['sre', 'eng-managers']);
    assert.equal(escalated.workflow.stage.quorum, 2, 'escalation never lowers the quorum');
    const events = (await auditRows(w, a.id)).map((e) => e.event);
    assert.deepEqual(events, ['action.created', 'action.stage_timed_out', 'action.escalated']);

    await clock.advance(45 * MIN);
    await sweep(w);
    const expired = await get(w, a.id);
    assert.equal(expired.status, 'expired');
    assert.equal(expired.decided_by.type, 'system');
    assert.match(expired.reason, /expired and was not approved/);
    const late = await review(w, a.id, mgr, { decision: 'approve' });
    assert.equal(late.status, 409);
  });

  test('after escalation a manager can vote, and counts toward the same quorum', async () => {
    const clock = new FakeClock();
    const { w, sre1, mgr } = await setup(EXAMPLE, clock);
    const { body: a } = await propose(w, prodDeploy);
    await review(w, a.id, sre1, { decision: 'approve' });
    await clock.advance(15 * MIN);
    await sweep(w);
    const r = await review(w, a.id, mgr, { decision: 'approve' });
    assert.equal(r.status, 200);
    assert.equal(r.body.status, 'approved');
  });

  test('stages run in order; a stage whose condition is false is skipped', async () => {
    const policy = `
policy:
  rules:
    - { name: payments, when: 'tool == "pay"', effect: review, workflow: two-step }
workflows:
  two-step:
    stages:
      - name: sre
        approvers: { groups: [sre] }
      - name: finance
        when: arguments.amount > 1000
        approvers: { users: [mgr@example.com] }
`;
    const { w, sre1, sre2, mgr } = await setup(policy);
    const { body: big } = await propose(w, { tool: 'pay', arguments: { amount: 5000 } });
    assert.equal(big.workflow.stage.name, 'sre');
    assert.equal((await review(w, big.id, mgr, { decision: 'approve' })).status, 403, 'stage 2 approvers cannot vote in stage 1');
    const mid = await review(w, big.id, sre1, { decision: 'approve' });
    assert.equal(mid.body.status, 'pending');
    assert.equal(mid.body.workflow.stage.name, 'finance');
    assert.equal((await review(w, big.id, sre2, { decision: 'approve' })).status, 403, 'stage 1 approvers cannot vote in stage 2');
    assert.equal((await review(w, big.id, mgr, { decision: 'approve' })).body.status, 'approved');

    const { body: small } = await propose(w, { tool: 'pay', arguments: { amount: 20 } });
    assert.equal((await review(w, small.id, sre1, { decision: 'approve' })).body.status, 'approved', 'finance stage skipped');
    const events = (await auditRows(w, small.id)).map((e) => e.event);
    assert.ok(events.includes('action.stages_skipped'));
  });

  test('a stage time-out with on_timeout deny denies, with a reason the agent can read', async () => {
    const clock = new FakeClock();
    const policy = `
workflows:
  default:
    stages:
      - approvers: { roles: [reviewer] }
        timeout: 10m
        on_timeout: deny
`;
    const { w } = await setup(policy, clock);
    const { body: a } = await propose(w);
    await clock.advance(10 * MIN);
    await sweep(w);
    const d = await get(w, a.id);
    assert.equal(d.status, 'denied');
    assert.match(d.reason, /got 0 of 1 approval\(s\) in 10m; the action was denied/);
  });

  test('the agent owner may vote only where the stage names the owner; on_behalf_of never may', async () => {
    const policy = `
policy:
  rules:
    - { name: mine, when: 'tool == "mine"', effect: review, workflow: owner-ok }
workflows:
  owner-ok:
    stages:
      - approvers: { owner: true }
`;
    const { w } = await setup(policy);
    const { body: plain } = await propose(w);
    assert.equal((await review(w, plain.id, w.keys.bob, { decision: 'approve' })).body.error.code, 'self_approval');
    const { body: mine } = await propose(w, { tool: 'mine', arguments: {} });
    assert.equal((await review(w, mine.id, w.keys.alice, { decision: 'approve' })).status, 403);
    assert.equal((await review(w, mine.id, w.keys.bob, { decision: 'approve' })).body.status, 'approved');
    const { body: theirs } = await propose(w, { tool: 'mine', arguments: {}, on_behalf_of: 'bob@example.com' });
    assert.equal((await review(w, theirs.id, w.keys.bob, { decision: 'approve' })).body.error.code, 'self_approval');
  });

  test('arguments cannot be edited once someone has approved them', async () => {
    const { w, sre1, sre2 } = await setup();
    const { body: a } = await propose(w, prodDeploy);
    await review(w, a.id, sre1, { decision: 'approve' });
    const edit = await review(w, a.id, sre2, { decision: 'approve', arguments: { env: 'production', version: '9.9.9' } });
    assert.equal(edit.status, 409);
    const { body: b } = await propose(w, prodDeploy);
    const first = await review(w, b.id, sre1, { decision: 'approve', arguments: { env: 'production', version: '1.4.3' } });
    assert.equal(first.body.arguments.version, '1.4.3');
    const done = await review(w, b.id, sre2, { decision: 'approve' });
    assert.equal(done.body.status, 'approved');
    assert.deepEqual(done.body.arguments, { env: 'production', version: '1.4.3' });
  });

  test('a long-poll is not answered by progress, only by the decision', async () => {
    const { w, sre1, sre2 } = await setup();
    const { body: a } = await propose(w, prodDeploy);
    const waiting = call(w, 'GET', `/v1/actions/${a.id}?wait=30`, w.keys.agent);
    await review(w, a.id, sre1, { decision: 'approve' });
    await review(w, a.id, sre2, { decision: 'approve' });
    assert.equal((await waiting).body.status, 'approved');
  });

  test('the worked examples of docs/policy.md behave as documented', async () => {
    const clock = new FakeClock();
    const { w, mgr } = await setup(WORKED, clock);
    for (const query of ['DROP TABLE users', 'select 1; drop  database prod', 'Drop Schema x cascade']) {
      const r = await propose(w, { tool: 'sql', arguments: { query } });
      assert.equal(r.body.status, 'denied', query);
      assert.equal(r.body.reason, 'DROP statements are never run by agents; ask a DBA.');
    }
    assert.equal((await propose(w, { tool: 'sql', arguments: { query: 'select * from dropbox' } })).body.status, 'pending');
    assert.equal((await propose(w, { tool: 'get_logs', arguments: {}, annotations: { readOnlyHint: true } })).body.status, 'approved');
    assert.equal(
      (await propose(w, { tool: 'export_customers', arguments: {}, annotations: { readOnlyHint: true } })).body.status,
      'pending',
    );

    const { body: page } = await propose(w, { tool: 'page', arguments: { team: 'db' } });
    assert.equal((await review(w, page.id, mgr, { decision: 'approve' })).status, 403);
    await clock.advance(15 * MIN);
    await sweep(w);
    const events = async () => (await auditRows(w, page.id)).map((e) => e.event).filter((e) => e !== 'action.created');
    assert.deepEqual(await events(), ['action.escalated'], 'managers are added after 15 minutes');
    for (const n of [2, 3]) {
      await clock.advance(15 * MIN);
      await sweep(w);
      assert.equal((await events()).length, n, 'then reminded every 15 minutes, twice');
    }
    await clock.advance(15 * MIN);
    await sweep(w);
    assert.equal((await get(w, page.id)).status, 'expired', 'nothing answered in an hour expires');
  });
});
