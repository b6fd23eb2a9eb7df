import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { auditRows, call, forEachDialect, type World, withPolicy, world } from './helpers.js';

// A batch review ("decide all") must answer a caller who may not review the way a single review does:
// the same 403 and code, and nothing written. Per-item results are only for outcomes of the vote itself.

const POLICY = `
policy:
  default: review
  rules:
    - { name: mine, when: 'tool == "mine"', effect: review, workflow: owner-ok }
workflows:
  default:
    stages:
      - approvers: { roles: [reviewer] }
  owner-ok:
    stages:
      - approvers: { owner: true, roles: [reviewer] }
`;

type Item = { tool?: string; on_behalf_of?: string };

forEachDialect('who may decide a whole batch', (dialect) => {
  let w: World;
  before(async () => {
    w = await world(dialect, { config: withPolicy(POLICY) });
  });
  after(async () => w.close());

  async function batchOf(items: Item[]): Promise<{ batch_id: string; actions: { id: string; status: string }[] }> {
    const actions = items.map((i, n) => ({
      tool: i.tool ?? 'deploy',
      arguments: { n },
      ...(i.on_behalf_of ? { on_behalf_of: i.on_behalf_of } : {}),
    }));
    const r = await call(w, 'POST', '/v1/actions/batch', w.keys.agent, { actions });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body;
  }

  /** Statuses, vote counts and the audit log length: what "nothing written" compares. */
  async function snapshot(ids: string[]) {
    const actions = await Promise.all(ids.map(async (id) => (await call(w, 'GET', `/v1/actions/${id}`, w.keys.ada)).body));
    return { log: (await auditRows(w)).length, actions: actions.map((a) => [a.status, a.version, a.reviews.length]) };
  }

  /** The single review of the batch's first action, by the same caller, for comparison. */
  const single = (id: string, key: string) => call(w, 'POST', `/v1/actions/${id}/reviews`, key, { decision: 'approve' });

  async function assertRefusedLikeSingle(key: string, items: Item[], code: string) {
    const b = await batchOf(items);
    const ids = b.actions.map((a) => a.id);
    const before = await snapshot(ids);
    const r = await call(w, 'POST', `/v1/batches/${b.batch_id}/reviews`, key, { decision: 'approve' });
    assert.equal(r.status, 403, JSON.stringify(r.body));
    assert.equal(r.body.error.code, code);
    assert.equal(r.body.results, undefined, 'no per-item answer');
    assert.deepEqual(await snapshot(ids), before, 'nothing was written');
    const one = await single(ids.find((_, i) => items[i]?.on_behalf_of !== undefined) ?? ids[0] ?? '', key);
    assert.deepEqual([one.status, one.body.error?.code], [r.status, r.body.error.code], 'the single review answers the same');
    return r;
  }

  test('a viewer is refused the whole batch with 403 forbidden, as a single review refuses them', async () => {
    const r = await assertRefusedLikeSingle(w.keys.victor, [{}, {}], 'forbidden');
    assert.match(r.body.error.message, /viewers cannot review/);
  });

  test('an agent key is refused the whole batch with 403 forbidden, as a single review refuses it', async () => {
    await assertRefusedLikeSingle(w.keys.agent, [{}, {}], 'forbidden');
  });

  test('the agent’s owner is refused the whole batch with 403 self_approval where the stage does not name the owner', async () => {
    const r = await assertRefusedLikeSingle(w.keys.bob, [{}, {}], 'self_approval');
    assert.match(r.body.error.message, /you own the agent/);
    assert.equal(r.body.error.details.refused.length, 2, 'every refused action is named');
  });

  test('the person an action acts for is refused the whole batch, even when only one of its actions is theirs', async () => {
    const r = await assertRefusedLikeSingle(w.keys.alice, [{}, { on_behalf_of: 'alice@example.com' }, {}], 'self_approval');
    assert.match(r.body.error.message, /acts on your behalf/);
    assert.equal(r.body.error.details.refused.length, 1);
  });

  test('the agent’s owner decides a batch whose stage names the owner', async () => {
    const b = await batchOf([{ tool: 'mine' }, { tool: 'mine' }]);
    const r = await call(w, 'POST', `/v1/batches/${b.batch_id}/reviews`, w.keys.bob, { decision: 'approve' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(
      r.body.results.map((x: { ok: boolean; action?: { status: string } }) => [x.ok, x.action?.status]),
      [
        [true, 'approved'],
        [true, 'approved'],
      ],
    );
  });

  test('in a mixed batch an action decided meanwhile is a per-item conflict and the others are approved, each audited', async () => {
    const b = await batchOf([{}, {}, {}]);
    const [first, second, third] = b.actions.map((a) => a.id) as [string, string, string];
    assert.equal((await call(w, 'POST', `/v1/actions/${second}/reviews`, w.keys.carol, { decision: 'deny' })).status, 200);
    const r = await call(w, 'POST', `/v1/batches/${b.batch_id}/reviews`, w.keys.alice, {
      decision: 'approve',
      ids: [first, second, third],
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(
      r.body.results.map((x: { id: string; ok: boolean; error?: { code: string } }) => [x.id, x.ok, x.error?.code]),
      [
        [first, true, undefined],
        [second, false, 'conflict'],
        [third, true, undefined],
      ],
    );
    for (const id of [first, third]) {
      const events = (await auditRows(w, id)).map((e) => e.event);
      assert.ok(events.includes('action.approved'), `${id} approval audited`);
    }
    assert.ok(!(await auditRows(w, second)).some((e) => e.event === 'action.approved'));
  });
});
