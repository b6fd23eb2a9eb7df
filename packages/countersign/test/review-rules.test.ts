import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { auditRows, call, forEachDialect, propose, review, type World, world } from './helpers.js';

forEachDialect('review rules', (dialect) => {
  let w: World;
  before(async () => {
    w = await world(dialect, { trustAnnotationsOf: ['deployer'] });
  });
  after(async () => w.close());

  test('a reviewer approves a pending action; status, decider and audit entry commit together', async () => {
    const { body: a } = await propose(w);
    assert.equal(a.status, 'pending');
    const r = await review(w, a.id, w.keys.alice, { decision: 'approve', reason: 'looks fine' });
    assert.equal(r.status, 200);
    assert.equal(r.body.status, 'approved');
    assert.equal(r.body.decided_by.label, 'alice@example.com');
    assert.equal(r.body.reason, 'looks fine');
    assert.equal(r.body.version, 2);
    const events = (await auditRows(w, a.id)).map((e) => e.event);
    assert.deepEqual(events, ['action.created', 'action.reviewed', 'action.approved', 'receipt.issued']);
  });

  test('an agent key can never review, not even another agent’s action', async () => {
    const { body: a } = await propose(w);
    for (const key of [w.keys.agent, w.keys.otherAgent]) {
      const r = await review(w, a.id, key, { decision: 'approve' });
      assert.equal(r.status, 403);
      assert.equal(r.body.error.code, 'forbidden');
    }
    const after = await call(w, 'GET', `/v1/actions/${a.id}`, w.keys.alice);
    assert.equal(after.body.status, 'pending');
    assert.equal(after.body.version, 1);
  });

  test('a viewer cannot review', async () => {
    const { body: a } = await propose(w);
    const r = await review(w, a.id, w.keys.victor, { decision: 'deny', reason: 'no' });
    assert.equal(r.status, 403);
    assert.equal(r.body.error.code, 'forbidden');
  });

  test('the agent’s owner cannot approve their own agent’s action', async () => {
    const { body: a } = await propose(w);
    const r = await review(w, a.id, w.keys.bob, { decision: 'approve' });
    assert.equal(r.status, 403);
    assert.equal(r.body.error.code, 'self_approval');
    assert.equal((await call(w, 'GET', `/v1/actions/${a.id}`, w.keys.alice)).body.status, 'pending');
  });

  test('the person an action acts on behalf of cannot review it (email compared case-insensitively)', async () => {
    const { body: a } = await propose(w, { on_behalf_of: 'Alice@Example.com' });
    assert.equal(a.on_behalf_of, 'alice@example.com');
    const r = await review(w, a.id, w.keys.alice, { decision: 'approve' });
    assert.equal(r.status, 403);
    assert.equal(r.body.error.code, 'self_approval');
    const ok = await review(w, a.id, w.keys.carol, { decision: 'approve' });
    assert.equal(ok.status, 200);
  });

  test('a review on a non-pending action is a 409 and changes nothing', async () => {
    const { body: a } = await propose(w);
    await review(w, a.id, w.keys.alice, { decision: 'deny', reason: 'not now' });
    const before = await auditRows(w, a.id);
    const r = await review(w, a.id, w.keys.carol, { decision: 'approve' });
    assert.equal(r.status, 409);
    assert.equal(r.body.error.code, 'conflict');
    const now = await call(w, 'GET', `/v1/actions/${a.id}`, w.keys.alice);
    assert.equal(now.body.status, 'denied');
    assert.equal(now.body.reason, 'not now');
    assert.equal((await auditRows(w, a.id)).length, before.length);
  });

  test('a deny that commits can never be overturned, by any later review, cancel or result', async () => {
    const { body: a } = await propose(w);
    assert.equal((await review(w, a.id, w.keys.alice, { decision: 'deny', reason: 'freeze' })).status, 200);
    assert.equal((await review(w, a.id, w.keys.ada, { decision: 'approve' })).status, 409);
    assert.equal((await call(w, 'POST', `/v1/actions/${a.id}/cancel`, w.keys.agent, {})).status, 409);
    assert.equal((await call(w, 'POST', `/v1/actions/${a.id}/result`, w.keys.agent, { outcome: 'succeeded' })).status, 409);
    const final = await call(w, 'GET', `/v1/actions/${a.id}`, w.keys.agent);
    assert.equal(final.body.status, 'denied');
    assert.equal(final.body.reason, 'freeze');
  });

  test('concurrent approve and deny reviews end in exactly one final state with one decision in the audit log', async () => {
    for (let round = 0; round < 10; round++) {
      const { body: a } = await propose(w);
      const results = await Promise.all([
        review(w, a.id, w.keys.alice, { decision: 'approve' }),
        review(w, a.id, w.keys.carol, { decision: 'deny', reason: 'race' }),
        review(w, a.id, w.keys.ada, { decision: 'approve' }),
        call(w, 'POST', `/v1/actions/${a.id}/cancel`, w.keys.agent, {}),
      ]);
      const winners = results.filter((r) => r.status === 200);
      assert.equal(winners.length, 1, `round ${round}: exactly one transition wins`);
      for (const r of results.filter((x) => x.status !== 200)) assert.equal(r.status, 409);
      const final = await call(w, 'GET', `/v1/actions/${a.id}`, w.keys.alice);
      assert.equal(final.body.status, winners[0]?.body.status);
      assert.equal(final.body.version, 2);
      const decisions = (await auditRows(w, a.id)).filter((e) =>
        ['action.approved', 'action.denied', 'action.cancelled'].includes(e.event),
      );
      assert.equal(decisions.length, 1);
    }
  });

  test('edit-and-approve runs the edited arguments and keeps the original beside them', async () => {
    const { body: a } = await propose(w, { arguments: { env: 'production', replicas: 10 } });
    const r = await review(w, a.id, w.keys.alice, { decision: 'approve', arguments: { env: 'staging', replicas: 2 } });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.arguments, { env: 'staging', replicas: 2 });
    assert.deepEqual(r.body.original_arguments, { env: 'production', replicas: 10 });
    assert.equal(r.body.edited, true);
    const edit = (await auditRows(w, a.id)).find((e) => e.event === 'action.edited');
    assert.ok(edit);
    assert.deepEqual(JSON.parse(edit.data), {
      new_arguments: { env: 'staging', replicas: 2 },
      old_arguments: { env: 'production', replicas: 10 },
    });
  });

  test('arguments cannot be sent with a deny', async () => {
    const { body: a } = await propose(w);
    const r = await review(w, a.id, w.keys.alice, { decision: 'deny', arguments: { x: 1 } });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, 'invalid_request');
  });

  test('the requesting agent can cancel its pending action; another agent cannot see it', async () => {
    const { body: a } = await propose(w);
    const other = await call(w, 'POST', `/v1/actions/${a.id}/cancel`, w.keys.otherAgent, {});
    assert.equal(other.status, 404);
    const r = await call(w, 'POST', `/v1/actions/${a.id}/cancel`, w.keys.agent, { reason: 'no longer needed' });
    assert.equal(r.status, 200);
    assert.equal(r.body.status, 'cancelled');
    assert.ok((await auditRows(w, a.id)).some((e) => e.event === 'action.cancelled'));
  });

  test('a result is accepted once, only on an approved and redeemed action, only from its agent', async () => {
    const { body: a } = await propose(w);
    assert.equal((await call(w, 'POST', `/v1/actions/${a.id}/result`, w.keys.agent, { outcome: 'succeeded' })).status, 409);
    const approved = (await review(w, a.id, w.keys.alice, { decision: 'approve' })).body;
    const run = { id: approved.id, tool: approved.tool, arguments: approved.arguments, resource: approved.resource };
    assert.equal((await call(w, 'POST', '/v1/receipts/redeem', w.keys.agent, { receipt: approved.receipt, action: run })).status, 200);
    assert.equal((await call(w, 'POST', `/v1/actions/${a.id}/result`, w.keys.alice, { outcome: 'succeeded' })).status, 403);
    assert.equal((await call(w, 'POST', `/v1/actions/${a.id}/result`, w.keys.otherAgent, { outcome: 'succeeded' })).status, 404);
    const r = await call(w, 'POST', `/v1/actions/${a.id}/result`, w.keys.agent, { outcome: 'succeeded', output: { url: 'https://x' } });
    assert.equal(r.status, 200);
    assert.equal(r.body.status, 'executed');
    assert.deepEqual(r.body.result.output, { url: 'https://x' });
    assert.equal((await call(w, 'POST', `/v1/actions/${a.id}/result`, w.keys.agent, { outcome: 'failed' })).status, 409);
  });

  test('a read-only annotated action of an agent the operator vouches for is approved at once by the built-in rule, with an audit entry', async () => {
    const { status, body: a } = await propose(w, { tool: 'list_files', annotations: { readOnlyHint: true } });
    assert.equal(status, 201);
    assert.equal(a.status, 'approved');
    assert.equal(a.decided_by.type, 'policy');
    assert.deepEqual(
      (await auditRows(w, a.id)).map((e) => e.event),
      ['action.created', 'action.approved', 'receipt.issued'],
    );
  });

  test('the audit chain verifies after all of the above', async () => {
    const { verifyAudit } = await import('../src/domain/audit/verify-audit.js');
    const r = await verifyAudit(w.gw.deps.db.read);
    assert.equal(r.ok, true, r.firstBad?.problem);
    assert.ok(r.entries > 20);
  });
});
