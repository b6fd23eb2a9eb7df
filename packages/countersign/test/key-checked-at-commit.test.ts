import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import type { CommitQueue, Tx } from '../src/db/committer.js';
import { EpochCondition, StalePrincipal } from '../src/db/epoch-condition.js';
import type { Deps } from '../src/deps.js';
import { disableUser } from '../src/domain/identities/disable-user.js';
import { readIdentityEpoch } from '../src/domain/identities/epoch.js';
import { revokeKey } from '../src/domain/identities/revoke-key.js';
import { setUserGroups } from '../src/domain/identities/set-user-groups.js';
import { setUserRole } from '../src/domain/identities/set-user-role.js';
import { twoNodes } from './cross-node-helpers.js';
import { ADMIN, auditRows, call, type Dialect, forEachDialect, propose, review, type World, withPolicy, world } from './helpers.js';

/**
 * The write routes agents and reviewers hit (propose, review, redeem, result) take a remembered key's principal
 * without reading the identity epoch first, and the commit proves the epoch still stands
 * (http/key-checked-at-commit.ts). Each test first makes the key remembered, and checks it is, so the write
 * really takes that path.
 */
const prefixOf = (key: string) => key.slice(0, 'cs_'.length + 12);

const POLICY = `
policy:
  default: review
  rules:
    - name: sre
      when: tool == "sre-deploy"
      effect: review
      workflow: sre-only
workflows:
  default:
    stages:
      - approvers: { roles: [reviewer] }
  sre-only:
    stages:
      - approvers: { groups: [sre] }
`;

async function remember(w: World, key: string): Promise<void> {
  // The first use records last_used_at; the second reads a recently used key, which the cache keeps.
  for (let i = 0; i < 2; i++) assert.equal((await call(w, 'GET', '/v1/me', key)).status, 200);
  assert.ok(w.gw.deps.keys.remembered(key, w.gw.deps.clock.now()), 'the key is remembered');
}

async function counts(w: World): Promise<{ actions: number; audit: number }> {
  const actions = await w.gw.deps.db.read
    .selectFrom('actions')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return { actions: Number(actions.n), audit: (await auditRows(w)).length };
}

/** Wraps the `run` of every committer a route is handed under an epoch condition. */
function aroundHeldRuns(deps: Deps, wrap: (run: CommitQueue['run']) => CommitQueue['run']): void {
  const committer = deps.committer;
  const holding = committer.holding.bind(committer);
  committer.holding = (condition): CommitQueue => {
    const held = holding(condition);
    return { ...held, run: wrap(held.run.bind(held)) };
  };
}

/** Runs `between` after the route has done its checks and before its write is queued for commit. */
function beforeTheWrite(deps: Deps, between: () => Promise<unknown>): void {
  aroundHeldRuns(deps, (run) => async (op, opts) => {
    await between();
    return run(op, opts);
  });
}

/** Runs `between` inside the write's own transaction, after its statements and before the append and COMMIT. */
function insideTheWrite(deps: Deps, between: () => Promise<unknown>): void {
  aroundHeldRuns(
    deps,
    (run) => (op, opts) =>
      run(async (tx) => {
        const value = await op(tx);
        await between();
        return value;
      }, opts),
  );
}

forEachDialect('a remembered key is checked at commit on the write routes', (dialect: Dialect) => {
  const open: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const w of open.splice(0)) await w.close();
  });
  async function setup(): Promise<World> {
    const w = await world(dialect, { config: withPolicy(POLICY) });
    open.push(w);
    return w;
  }

  test('an operation held to an epoch that has moved is rolled back alone, and the operations batched with it commit', async () => {
    const w = await setup();
    const { committer } = w.gw.deps;
    const epoch = await readIdentityEpoch(w.gw.deps.db.read);
    const write = (tag: string) => async (tx: Tx) => {
      tx.audit({ actor: ADMIN, event: 'test.held', data: { tag } });
      return tag;
    };
    const current = new EpochCondition(epoch);
    const moved = new EpochCondition(epoch - 1);
    const before = (await auditRows(w)).length;
    // Queued in one tick, so they share a batch.
    const settled = await Promise.allSettled([
      committer.run(write('plain')),
      committer.holding(moved).run(write('stale')),
      committer.holding(current).run(write('current')),
    ]);
    assert.deepEqual(
      settled.map((s) => s.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.ok((settled[1] as PromiseRejectedResult).reason instanceof StalePrincipal);
    const tags = (await auditRows(w)).slice(before).map((r) => JSON.parse(r.data).tag);
    assert.deepEqual(tags, ['plain', 'current']);
    assert.deepEqual([current.proved, current.broken, moved.proved, moved.broken], [true, false, false, true]);
  });

  test('a proposal by a remembered valid key commits with its audit row', async () => {
    const w = await setup();
    await remember(w, w.keys.agent);
    const before = await counts(w);
    const created = await propose(w);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual(await counts(w), { actions: before.actions + 1, audit: before.audit + 1 });
    assert.equal((await auditRows(w, created.body.id))[0]?.actor_id, w.ids.agent);
  });

  test('a key revoked on this gateway after it was remembered writes nothing and is answered 401', async () => {
    const w = await setup();
    await remember(w, w.keys.agent);
    await revokeKey(w.gw.deps, ADMIN, prefixOf(w.keys.agent));
    const before = await counts(w);
    const refused = await propose(w);
    assert.equal(refused.status, 401, JSON.stringify(refused.body));
    assert.deepEqual(await counts(w), before);
  });

  test('a key revoked on another gateway on the same database writes nothing here and is answered 401', async () => {
    const nodes = await twoNodes(dialect, { config: withPolicy(POLICY) });
    open.push(nodes);
    await remember(nodes.a, nodes.a.keys.agent);
    await revokeKey(nodes.b.gw.deps, ADMIN, prefixOf(nodes.a.keys.agent));
    const before = await counts(nodes.a);
    assert.equal((await propose(nodes.a)).status, 401);
    assert.deepEqual(await counts(nodes.a), before);
  });

  test('a revocation committed on another gateway after the key was checked and before the write commits stops the write', async () => {
    const nodes = await twoNodes(dialect, { config: withPolicy(POLICY) });
    open.push(nodes);
    const pending = (await propose(nodes.a)).body;
    await remember(nodes.a, nodes.a.keys.alice);
    beforeTheWrite(nodes.a.gw.deps, () => revokeKey(nodes.b.gw.deps, ADMIN, prefixOf(nodes.a.keys.alice)));
    const before = await counts(nodes.a);
    const refused = await review(nodes.a, pending.id, nodes.a.keys.alice, { decision: 'approve' });
    assert.equal(refused.status, 401, JSON.stringify(refused.body));
    assert.deepEqual(await counts(nodes.a), { ...before, audit: before.audit + 1 }, 'only the revocation is audited');
    assert.equal((await call(nodes.a, 'GET', `/v1/actions/${pending.id}`, nodes.a.keys.ada)).body.status, 'pending');
  });

  test('a revoked remembered agent key can neither redeem its receipt nor report a result: 401 and the action unchanged', async () => {
    const w = await setup();
    const approve = async () => {
      const { body: a } = await propose(w);
      return (await review(w, a.id, w.keys.alice, { decision: 'approve' })).body;
    };
    const redeem = (a: { receipt: string; id: string; tool: string; arguments: unknown; resource: string | null }) =>
      call(w, 'POST', '/v1/receipts/redeem', w.keys.agent, {
        receipt: a.receipt,
        action: { id: a.id, tool: a.tool, arguments: a.arguments, resource: a.resource },
      });
    const toRedeem = await approve();
    const redeemed = await approve();
    await remember(w, w.keys.agent);
    assert.equal((await redeem(redeemed)).status, 200, 'a valid remembered key redeems');
    await revokeKey(w.gw.deps, ADMIN, prefixOf(w.keys.agent));
    assert.equal((await redeem(toRedeem)).status, 401);
    assert.equal((await call(w, 'POST', `/v1/actions/${redeemed.id}/result`, w.keys.agent, { outcome: 'succeeded' })).status, 401);
    const status = async (id: string) => (await call(w, 'GET', `/v1/actions/${id}`, w.keys.ada)).body;
    assert.equal((await status(toRedeem.id)).redeemed_at, null);
    assert.equal((await status(redeemed.id)).status, 'approved', 'no result was recorded');
  });

  test("a disabled person's remembered key cannot vote: 401 and no vote", async () => {
    const w = await setup();
    const pending = (await propose(w)).body;
    await remember(w, w.keys.alice);
    await disableUser(w.gw.deps, ADMIN, 'alice@example.com');
    const refused = await review(w, pending.id, w.keys.alice, { decision: 'approve' });
    assert.equal(refused.status, 401, JSON.stringify(refused.body));
    assert.equal((await auditRows(w, pending.id)).length, 1, 'only the proposal is audited');
  });

  test('a person taken out of the group a stage names is judged on the groups they now have: 403 and no vote', async () => {
    const w = await setup();
    await setUserGroups(w.gw.deps, ADMIN, { email: 'alice@example.com', groups: ['sre'] });
    const pending = (await propose(w, { tool: 'sre-deploy' })).body;
    await remember(w, w.keys.alice);
    await setUserGroups(w.gw.deps, ADMIN, { email: 'alice@example.com', groups: [] });
    const refused = await review(w, pending.id, w.keys.alice, { decision: 'approve' });
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.equal((await auditRows(w, pending.id)).length, 1, 'only the proposal is audited');
  });

  test('a remembered key whose epoch moved for someone else writes once, re-authenticated', async () => {
    const w = await setup();
    await remember(w, w.keys.agent);
    await setUserRole(w.gw.deps, ADMIN, { email: 'victor@example.com', role: 'reviewer' });
    const before = await counts(w);
    const created = await propose(w);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual(await counts(w), { actions: before.actions + 1, audit: before.audit + 1 });
  });

  test("an error answer to a revoked remembered key is 401, not the route's 404 or 409", async () => {
    const w = await setup();
    const decided = (await propose(w)).body;
    assert.equal((await review(w, decided.id, w.keys.carol, { decision: 'deny', reason: 'no' })).status, 200);
    await remember(w, w.keys.alice);
    assert.equal(
      (await review(w, decided.id, w.keys.alice, { decision: 'approve' })).status,
      409,
      'the route answers 409 while the key stands',
    );
    await revokeKey(w.gw.deps, ADMIN, prefixOf(w.keys.alice));
    assert.equal((await review(w, decided.id, w.keys.alice, { decision: 'approve' })).status, 401);
    assert.equal((await review(w, '01900000-0000-7000-8000-000000000000', w.keys.alice, { decision: 'approve' })).status, 401);
  });

  test('an idempotent replay to a revoked remembered key is 401, though it writes nothing', async () => {
    const w = await setup();
    const headers = { 'idempotency-key': 'call-1' };
    assert.equal((await propose(w, {}, w.keys.agent, headers)).status, 201);
    await remember(w, w.keys.agent);
    assert.equal((await propose(w, {}, w.keys.agent, headers)).status, 200, 'the replay is answered while the key stands');
    await revokeKey(w.gw.deps, ADMIN, prefixOf(w.keys.agent));
    assert.equal((await propose(w, {}, w.keys.agent, headers)).status, 401);
  });
});

// A revocation that commits while the write's transaction is open: on SQLite the write holds the database
// (BEGIN IMMEDIATE), so no other writer can commit in between; on PostgreSQL the appending statement must see it.
test('postgres: a revocation committed on another gateway while the write is in its transaction never lets the write commit', async () => {
  const nodes = await twoNodes('postgres', { config: withPolicy(POLICY) });
  try {
    const pending = (await propose(nodes.a)).body;
    await remember(nodes.a, nodes.a.keys.alice);
    insideTheWrite(nodes.a.gw.deps, () => revokeKey(nodes.b.gw.deps, ADMIN, prefixOf(nodes.a.keys.alice)));
    const before = await counts(nodes.a);
    const refused = await review(nodes.a, pending.id, nodes.a.keys.alice, { decision: 'approve' });
    assert.equal(refused.status, 401, JSON.stringify(refused.body));
    const after = await counts(nodes.a);
    assert.equal(after.audit, before.audit + 1, 'only the revocation is audited');
    assert.equal((await call(nodes.a, 'GET', `/v1/actions/${pending.id}`, nodes.a.keys.ada)).body.status, 'pending');
  } finally {
    await nodes.close();
  }
});
