import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { EXAMPLE } from './fixtures/policies.js';
import { auditRows, call, forEachDialect, type World, withPolicy, world } from './helpers.js';

const CALLS = [
  { tool: 'list_pods', arguments: {}, annotations: { readOnlyHint: true } },
  { tool: 'deploy', arguments: { env: 'staging' } },
  { tool: 'restart', arguments: { service: 'api' } },
  { tool: 'shell', arguments: { command: 'ls; rm -rf /tmp/x' } },
];

forEachDialect('batches (parallel tool calls)', (dialect) => {
  let w: World;
  before(async () => {
    w = await world(dialect, { config: withPolicy(EXAMPLE) });
  });
  after(async () => w.close());
  const batch = (body: unknown, headers: Record<string, string> = {}, key = w.keys.agent) =>
    call(w, 'POST', '/v1/actions/batch', key, body, headers);

  test('each action in a batch gets its own policy decision', async () => {
    const r = await batch({ actions: CALLS });
    assert.equal(r.status, 201);
    assert.deepEqual(
      r.body.actions.map((a: { status: string }) => a.status),
      ['approved', 'pending', 'pending', 'denied'],
    );
    assert.ok(r.body.actions.every((a: { batch_id: string }) => a.batch_id === r.body.batch_id));
    assert.equal(r.body.decided, false);
  });

  test('a reviewer decides each on its own, and the agent waits for all of them', async () => {
    const { body: b } = await batch({ actions: CALLS });
    const waiting = call(w, 'GET', `/v1/batches/${b.batch_id}?wait=30`, w.keys.agent);
    const [, deploy, restart] = b.actions;
    assert.equal((await call(w, 'POST', `/v1/actions/${deploy.id}/reviews`, w.keys.alice, { decision: 'approve' })).status, 200);
    const mid = await call(w, 'GET', `/v1/batches/${b.batch_id}`, w.keys.agent);
    assert.equal(mid.body.decided, false, 'one still pending');
    await call(w, 'POST', `/v1/actions/${restart.id}/reviews`, w.keys.carol, { decision: 'deny', reason: 'not now' });
    const done = (await waiting).body;
    assert.equal(done.decided, true);
    assert.deepEqual(
      done.actions.map((a: { status: string }) => a.status),
      ['approved', 'approved', 'denied', 'denied'],
    );
    assert.equal(done.actions[2].reason, 'not now');
  });

  test('"decide all" casts one vote per pending action; no outcome depends on another', async () => {
    const { body: b } = await batch({ actions: CALLS });
    // One of them is already decided by the time the reviewer decides all.
    await call(w, 'POST', `/v1/actions/${b.actions[1].id}/reviews`, w.keys.carol, { decision: 'deny' });
    const r = await call(w, 'POST', `/v1/batches/${b.batch_id}/reviews`, w.keys.alice, { decision: 'approve' });
    assert.equal(r.status, 200);
    assert.deepEqual(
      r.body.results.map((x: { ok: boolean; action?: { status: string } }) => [x.ok, x.action?.status]),
      [[true, 'approved']],
    );
    const owner = await call(w, 'POST', `/v1/batches/${b.batch_id}/reviews`, w.keys.bob, { decision: 'approve' });
    assert.equal(owner.status, 200);
    assert.ok(
      owner.body.results.every((x: { ok: boolean }) => !x.ok),
      'nothing left pending',
    );
    const byAgent = await call(w, 'POST', `/v1/batches/${b.batch_id}/reviews`, w.keys.agent, { decision: 'approve' });
    assert.equal(byAgent.status, 403);
  });

  test('"decide all" refuses the owner as a single review does: 403 self_approval, no vote cast', async () => {
    const { body: b } = await batch({ actions: CALLS.slice(1, 3) });
    const r = await call(w, 'POST', `/v1/batches/${b.batch_id}/reviews`, w.keys.bob, { decision: 'approve' });
    assert.equal(r.status, 403);
    assert.equal(r.body.error.code, 'self_approval');
    const after = await call(w, 'GET', `/v1/batches/${b.batch_id}`, w.keys.agent);
    assert.ok(after.body.actions.every((a: { status: string; reviews: unknown[] }) => a.status === 'pending' && a.reviews.length === 0));
  });

  test('one bad item refuses the whole batch, naming it, and nothing is written', async () => {
    const before = (await auditRows(w)).length;
    const r = await batch({ actions: [CALLS[1], { tool: 'x', arguments: 'not an object' }] });
    assert.equal(r.status, 400);
    assert.match(r.body.error.message, /actions\.1\.arguments|actions\[1\]/);
    assert.equal((await auditRows(w)).length, before);
  });

  test('an Idempotency-Key makes a retried batch return the same actions', async () => {
    const first = await batch({ actions: CALLS.slice(0, 2) }, { 'idempotency-key': 'turn-7' });
    const again = await batch({ actions: CALLS.slice(0, 2) }, { 'idempotency-key': 'turn-7' });
    assert.equal(first.status, 201);
    assert.equal(again.status, 200);
    assert.deepEqual(
      again.body.actions.map((a: { id: string }) => a.id),
      first.body.actions.map((a: { id: string }) => a.id),
    );
    assert.equal(again.body.batch_id, first.body.batch_id);
  });

  test('an agent cannot see another agent’s batch', async () => {
    const { body: b } = await batch({ actions: CALLS.slice(1, 2) });
    assert.equal((await call(w, 'GET', `/v1/batches/${b.batch_id}`, w.keys.otherAgent)).status, 404);
    assert.equal((await call(w, 'GET', `/v1/batches/${b.batch_id}`, w.keys.victor)).status, 200);
  });
});
