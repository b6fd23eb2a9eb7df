import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { disableUser } from '../src/domain/identities/disable-user.js';
import { FakeClock } from '../src/lib/clock.js';
import { ADMIN, addPeople, auditRows, call, forEachDialect, propose, review, type World, withPolicy, world } from './helpers.js';

const HOUR = 3600_000;

const POLICY = `
policy:
  default: review
  rules:
    - name: prod
      when: tool == "deploy" && arguments.env == "production"
      effect: review
      workflow: sre-only
    - name: two
      when: tool == "deploy" && arguments.env == "two"
      effect: review
      workflow: two-sres
    - name: owned
      when: tool == "owned"
      effect: review
      workflow: owner-ok
    - name: risky
      when: tool == "risky"
      effect: review
      workflow: sre-step-up
workflows:
  default:
    stages:
      - approvers: { roles: [reviewer] }
  sre-only:
    stages:
      - approvers: { groups: [sre] }
  two-sres:
    stages:
      - approvers: { groups: [sre] }
        quorum: 2
  owner-ok:
    stages:
      - approvers: { owner: true }
  sre-step-up:
    stages:
      - approvers: { groups: [sre] }
        step_up: { max_age: 5m }
`;

const prod = { tool: 'deploy', arguments: { env: 'production' } };

forEachDialect('delegated votes: X for Y', (dialect) => {
  const open: World[] = [];
  afterEach(async () => {
    for (const w of open.splice(0)) await w.close();
  });
  /** xavier (a reviewer in no group) holds yara's vote (yara and sam are SREs); bob owns the agent "deployer". */
  async function setup() {
    const clock = new FakeClock();
    const w = await world(dialect, { clock, config: withPolicy(POLICY) });
    open.push(w);
    const k = await addPeople(w, [
      { email: 'xavier@example.com' },
      { email: 'yara@example.com', groups: ['sre'] },
      { email: 'sam@example.com', groups: ['sre'] },
      { email: 'zed@example.com', groups: ['sre'] },
    ]);
    const keys = { x: k['xavier@example.com'] as string, y: k['yara@example.com'] as string, sam: k['sam@example.com'] as string };
    const delegate = async (from: string, to: string, ms = HOUR / 2) => {
      const r = await call(w, 'POST', '/v1/admin/delegations', w.keys.ada, {
        delegator: from,
        delegate: to,
        ends_at: new Date(clock.now() + ms).toISOString(),
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return r.body.id as string;
    };
    const yToX = await delegate('yara@example.com', 'xavier@example.com');
    return { w, clock, keys, yToX, delegate };
  }
  const get = async (w: World, id: string) => (await call(w, 'GET', `/v1/actions/${id}`, w.keys.ada)).body;
  const reviewed = async (w: World, id: string) =>
    (await auditRows(w, id)).filter((e) => e.event === 'action.reviewed').map((e) => JSON.parse(e.data));

  test('a vote for Y approves an action only Y’s group could approve, recorded and audited as X for Y', async () => {
    const { w, keys, yToX } = await setup();
    const { body: a } = await propose(w, prod);
    const r = await review(w, a.id, keys.x, { decision: 'approve', for: 'Yara@Example.com', reason: 'covering for yara' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.status, 'approved');
    const [vote] = r.body.reviews;
    assert.equal(vote.reviewer.email, 'xavier@example.com');
    assert.equal(vote.for.email, 'yara@example.com');
    assert.equal(vote.delegation_id, yToX);
    assert.deepEqual((await get(w, a.id)).reviews, r.body.reviews, 'the action view shows the same');
    const [entry] = await reviewed(w, a.id);
    assert.equal(entry.reviewer, 'xavier@example.com');
    assert.equal(entry.for, 'yara@example.com');
    assert.equal(entry.delegation_id, yToX);
    const claims = JSON.parse(Buffer.from(String(r.body.receipt).split('.')[1] as string, 'base64url').toString());
    assert.deepEqual(
      claims.cs.approvers,
      ['xavier@example.com for yara@example.com'],
      'the receipt names the voter and whom they voted for',
    );
  });

  test('without for, X is refused and told whom they may vote for, rather than the gateway choosing', async () => {
    const { w, keys, yToX } = await setup();
    const { body: a } = await propose(w, prod);
    const r = await review(w, a.id, keys.x, { decision: 'approve' });
    assert.equal(r.status, 403);
    assert.equal(r.body.error.code, 'forbidden');
    assert.match(
      r.body.error.message,
      /you are not an approver of stage .*; you may vote for yara@example\.com \(delegation until .*\) with for: "yara@example\.com"/,
    );
    assert.deepEqual(r.body.error.details.may_vote_for, [{ email: 'yara@example.com', delegation_id: yToX }]);
    assert.equal((await get(w, a.id)).status, 'pending');
    assert.deepEqual(await reviewed(w, a.id), []);
  });

  test('the vote counts as Y’s: Y then gets a conflict, X cannot vote again, and another SRE completes the quorum', async () => {
    const { w, keys } = await setup();
    const { body: a } = await propose(w, { tool: 'deploy', arguments: { env: 'two' } });
    const first = await review(w, a.id, keys.x, { decision: 'approve', for: 'yara@example.com' });
    assert.equal(first.body.status, 'pending');
    assert.deepEqual(first.body.workflow.stage.approvals, ['xavier@example.com for yara@example.com']);
    assert.equal(first.body.workflow.stage.still_needed, 1);
    const byY = await review(w, a.id, keys.y, { decision: 'approve' });
    assert.equal(byY.status, 409);
    assert.match(byY.body.error.message, /your vote on this action was already cast by xavier@example\.com for yara@example\.com/);
    const again = await review(w, a.id, keys.x, { decision: 'approve', for: 'yara@example.com' });
    assert.equal(again.status, 409);
    assert.match(again.body.error.message, /you already voted on this action \(for yara@example\.com\)/);
    const done = await review(w, a.id, keys.sam, { decision: 'approve' });
    assert.equal(done.body.status, 'approved');
    assert.equal((await reviewed(w, a.id)).length, 2);
  });

  test('the schema backs the rule: a second row counting as Y on the same action is refused by the database', async () => {
    const { w, keys } = await setup();
    const { body: a } = await propose(w, { tool: 'deploy', arguments: { env: 'two' } });
    const first = await review(w, a.id, keys.x, { decision: 'approve', for: 'yara@example.com' });
    const y = first.body.reviews[0].for;
    const row = { action_id: a.id, decision: 'approve', reason: null, arguments: null, channel: 'api', created_at: 1, stage: 0 };
    const insert = (r: Record<string, unknown>) =>
      w.gw.deps.committer.run(async (tx) => {
        await tx.db
          .insertInto('reviews')
          .values({ ...row, for_user_id: null, for_email: null, delegation_id: null, ...r } as never)
          .execute();
      });
    await assert.rejects(insert({ id: '0190a000-0000-7000-8000-0000000000a1', reviewer_id: y.id, reviewer_email: y.email }));
    assert.equal((await get(w, a.id)).reviews.length, 1);
  });

  test('when Y has voted, a vote for Y is a conflict; and X cannot vote once for themselves and once for Y', async () => {
    const { w, keys, delegate } = await setup();
    const { body: a } = await propose(w, { tool: 'deploy', arguments: { env: 'two' } });
    assert.equal((await review(w, a.id, keys.y, { decision: 'approve' })).status, 200);
    const forY = await review(w, a.id, keys.x, { decision: 'approve', for: 'yara@example.com' });
    assert.equal(forY.status, 409);
    assert.match(forY.body.error.message, /yara@example\.com's vote on this action was already cast by them/);
    // sam, an SRE, also holds zed's vote: one review per person, whichever vote it uses.
    await delegate('zed@example.com', 'sam@example.com');
    const { body: b } = await propose(w, { tool: 'deploy', arguments: { env: 'two' } });
    assert.equal((await review(w, b.id, keys.sam, { decision: 'approve' })).status, 200);
    const twice = await review(w, b.id, keys.sam, { decision: 'approve', for: 'zed@example.com' });
    assert.equal(twice.status, 409);
    assert.equal((await get(w, b.id)).status, 'pending');
  });

  test('X cannot use a delegation on X’s own agent’s action, nor on an action on X’s or Y’s behalf', async () => {
    const { w, keys, delegate } = await setup();
    await delegate('yara@example.com', 'bob@example.com');
    const { body: owned } = await propose(w, prod);
    const byOwner = await review(w, owned.id, w.keys.bob, { decision: 'approve', for: 'yara@example.com' });
    assert.equal(byOwner.status, 403);
    assert.equal(byOwner.body.error.code, 'self_approval');
    assert.match(byOwner.body.error.message, /you own the agent/);
    const { body: forX } = await propose(w, { ...prod, on_behalf_of: 'xavier@example.com' });
    assert.equal((await review(w, forX.id, keys.x, { decision: 'approve', for: 'yara@example.com' })).body.error.code, 'self_approval');
    const { body: forY } = await propose(w, { ...prod, on_behalf_of: 'yara@example.com' });
    const r = await review(w, forY.id, keys.x, { decision: 'approve', for: 'yara@example.com' });
    assert.equal(r.body.error.code, 'self_approval');
    assert.match(r.body.error.message, /acts on behalf of yara@example\.com/);
    for (const id of [owned.id, forX.id, forY.id]) assert.equal((await get(w, id)).status, 'pending');
  });

  test('Y’s agent’s action takes a vote for Y only where the stage names the owner', async () => {
    const { w, keys, delegate } = await setup();
    await delegate('bob@example.com', 'xavier@example.com');
    const { body: a } = await propose(w, { ...prod, arguments: { env: 'production', n: 2 } });
    const refused = await review(w, a.id, keys.x, { decision: 'approve', for: 'bob@example.com' });
    assert.equal(refused.body.error.code, 'self_approval');
    const { body: b } = await propose(w, { tool: 'owned', arguments: {} });
    const ok = await review(w, b.id, keys.x, { decision: 'approve', for: 'bob@example.com' });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.status, 'approved');
  });

  test('a standing grant made with a vote for Y is bounded by X’s own authority, not Y’s', async () => {
    const { w, keys } = await setup();
    const { body: a } = await propose(w, prod);
    const r = await review(w, a.id, keys.x, { decision: 'approve', for: 'yara@example.com', grant: {} });
    assert.equal(r.status, 403);
    assert.match(r.body.error.message, /you cannot grant similar actions/);
    assert.equal((await get(w, a.id)).status, 'pending', 'nothing recorded');
    assert.equal((await review(w, a.id, keys.x, { decision: 'approve', for: 'yara@example.com' })).body.status, 'approved');
  });

  test('on a step-up stage the delegate’s own sign-in must be fresh: an API key voting for Y is refused', async () => {
    const { w, keys } = await setup();
    const { body: a } = await propose(w, { tool: 'risky', arguments: {} });
    const r = await review(w, a.id, keys.x, { decision: 'approve', for: 'yara@example.com' });
    assert.equal(r.status, 403);
    assert.equal(r.body.error.code, 'step_up_required');
    assert.equal((await get(w, a.id)).reviews.length, 0);
  });

  test('a revoked delegation refuses the next vote at once', async () => {
    const { w, keys, yToX } = await setup();
    const { body: a } = await propose(w, prod);
    assert.equal((await call(w, 'POST', `/v1/me/delegations/${yToX}/revoke`, keys.y)).status, 200);
    const r = await review(w, a.id, keys.x, { decision: 'approve', for: 'yara@example.com' });
    assert.equal(r.status, 403);
    assert.match(r.body.error.message, /not in force \(it has been revoked\)/);
    assert.equal((await get(w, a.id)).status, 'pending');
  });

  test('a delegation that ended refuses the next vote (its end is exclusive)', async () => {
    const { w, clock, keys } = await setup();
    const { body: a } = await propose(w, prod);
    await clock.advance(HOUR / 2);
    const r = await review(w, a.id, keys.x, { decision: 'approve', for: 'yara@example.com' });
    assert.equal(r.status, 403);
    assert.match(r.body.error.message, /not in force \(it has ended\)/);
    assert.equal((await get(w, a.id)).status, 'pending');
  });

  test('a disabled delegator’s vote cannot be cast', async () => {
    const { w, keys } = await setup();
    const { body: a } = await propose(w, prod);
    await disableUser(w.gw.deps, ADMIN, 'yara@example.com');
    const r = await review(w, a.id, keys.x, { decision: 'approve', for: 'yara@example.com' });
    assert.equal(r.status, 403);
    assert.match(r.body.error.message, /yara@example\.com is disabled/);
  });

  test('delegated authority is never passed on: X for Y for Z is refused', async () => {
    const { w, keys, delegate } = await setup();
    // zed (an SRE) delegates to carol (in no group), carol to xavier.
    await delegate('zed@example.com', 'carol@example.com');
    await delegate('carol@example.com', 'xavier@example.com');
    const { body: a } = await propose(w, prod);
    const viaCarol = await review(w, a.id, keys.x, { decision: 'approve', for: 'carol@example.com' });
    assert.equal(viaCarol.status, 403);
    assert.match(viaCarol.body.error.message, /carol@example\.com is not an approver of stage/);
    const forZed = await review(w, a.id, keys.x, { decision: 'approve', for: 'zed@example.com' });
    assert.equal(forZed.status, 403);
    assert.match(forZed.body.error.message, /you hold no delegation from zed@example\.com/);
    assert.equal((await get(w, a.id)).status, 'pending');
  });

  test('a batch review takes for the same way, and refuses without it with the same hint', async () => {
    const { w, keys } = await setup();
    const batch = await call(w, 'POST', '/v1/actions/batch', w.keys.agent, {
      actions: [
        { tool: 'deploy', arguments: { env: 'production', n: 1 } },
        { tool: 'deploy', arguments: { env: 'production', n: 2 } },
      ],
    });
    assert.equal(batch.status, 201, JSON.stringify(batch.body));
    const url = `/v1/batches/${batch.body.batch_id}/reviews`;
    const without = await call(w, 'POST', url, keys.x, { decision: 'approve' });
    assert.equal(without.status, 403);
    assert.match(without.body.error.message, /you may vote for yara@example\.com/);
    const r = await call(w, 'POST', url, keys.x, { decision: 'approve', for: 'yara@example.com' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(
      r.body.results.map((i: { ok: boolean; action: { status: string } }) => [i.ok, i.action.status]),
      [
        [true, 'approved'],
        [true, 'approved'],
      ],
    );
    for (const i of r.body.results) assert.equal((await reviewed(w, i.id))[0].for, 'yara@example.com');
  });
});
