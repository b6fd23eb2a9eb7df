/*
 * Redeeming is a step of the action's lifecycle (approved → redeemed → executed | failed), and a refused
 * redemption is the caller's record, not an entry any agent can attach to another agent's action.
 */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { FakeClock } from '../src/lib/clock.js';
import { auditRows, call, forEachDialect, propose, review, type World, world } from './helpers.js';

forEachDialect('redemption in the lifecycle', (dialect) => {
  const open: World[] = [];
  afterEach(async () => {
    for (const w of open.splice(0)) await w.close();
  });
  async function setup(opts: Parameters<typeof world>[1] = {}) {
    const w = await world(dialect, opts);
    open.push(w);
    return w;
  }
  const runOf = (a: { id: string; tool: string; arguments: unknown; resource: string | null }) => ({
    id: a.id,
    tool: a.tool,
    arguments: a.arguments,
    resource: a.resource,
  });
  async function approved(w: World) {
    const { body: a } = await propose(w);
    return (await review(w, a.id, w.keys.alice, { decision: 'approve' })).body;
  }
  const redeem = (
    w: World,
    a: { receipt: string; id: string; tool: string; arguments: unknown; resource: string | null },
    key = w.keys.agent,
  ) => call(w, 'POST', '/v1/receipts/redeem', key, { receipt: a.receipt, action: runOf(a) });
  const result = (w: World, id: string, key = w.keys.agent) => call(w, 'POST', `/v1/actions/${id}/result`, key, { outcome: 'succeeded' });

  test('a result for an approved action that was never redeemed is refused with 409 and nothing is written', async () => {
    const w = await setup();
    const a = await approved(w);
    const before = await auditRows(w, a.id);
    const r = await result(w, a.id);
    assert.equal(r.status, 409);
    assert.equal(r.body.error.code, 'conflict');
    assert.match(r.body.error.message, /never redeemed/);
    const now = (await call(w, 'GET', `/v1/actions/${a.id}`, w.keys.agent)).body;
    assert.equal(now.status, 'approved');
    assert.equal(now.result, null);
    assert.equal((await auditRows(w, a.id)).length, before.length);
  });

  test('redeeming moves the action on with an audit entry, and then its result is accepted once', async () => {
    const w = await setup();
    const a = await approved(w);
    const r = await redeem(w, a);
    assert.equal(r.status, 200);
    const events = (await auditRows(w, a.id)).map((e) => e.event);
    assert.ok(events.includes('receipt.redeemed'), events.join(' '));
    const view = (await call(w, 'GET', `/v1/actions/${a.id}`, w.keys.agent)).body;
    assert.equal(view.status, 'approved');
    assert.equal(view.redeemed_at, r.body.redeemed_at);
    assert.equal((await result(w, a.id)).body.status, 'executed');
    assert.equal((await result(w, a.id)).status, 409);
    assert.equal((await redeem(w, a)).body.error.code, 'receipt_used');
  });

  test('a redemption by another agent or a person is refused and nothing is redeemed', async () => {
    const w = await setup();
    const a = await approved(w);
    assert.equal((await redeem(w, a, w.keys.alice)).status, 403);
    const other = await redeem(w, a, w.keys.otherAgent);
    assert.ok(other.status >= 400 && other.status < 500, String(other.status));
    assert.equal((await call(w, 'GET', `/v1/actions/${a.id}`, w.keys.agent)).body.redeemed_at, null);
  });

  test("another agent's refused redemption is audited against that agent and not filed under the victim's action", async () => {
    const w = await setup();
    const a = await approved(w);
    const before = (await auditRows(w, a.id)).length;
    const forged = await call(w, 'POST', '/v1/receipts/redeem', w.keys.otherAgent, { receipt: 'x.y.z', action: runOf(a) });
    assert.equal(forged.status, 400);
    const stolen = await redeem(w, a, w.keys.otherAgent);
    assert.ok(stolen.status >= 400, String(stolen.status));
    assert.equal((await auditRows(w, a.id)).length, before, "nothing was added to the victim's action");
    const refused = (await auditRows(w)).filter((e) => e.event === 'receipt.refused');
    assert.equal(refused.length, 2);
    for (const e of refused) {
      assert.equal(e.actor_id, w.ids.otherAgent);
      assert.equal(e.action_id, null);
      assert.equal(JSON.parse(e.data).claimed_action_id, a.id);
    }
  });

  test("an agent's refused redemption of its own action stays in that action's timeline", async () => {
    const w = await setup();
    const a = await approved(w);
    const r = await call(w, 'POST', '/v1/receipts/redeem', w.keys.agent, {
      receipt: a.receipt,
      action: { ...runOf(a), arguments: { env: 'something else' } },
    });
    assert.equal(r.status, 422);
    const events = (await auditRows(w, a.id)).map((e) => e.event);
    assert.equal(events.at(-1), 'receipt.refused');
  });

  test('an agent past its refusals for the minute is answered 429, audited once, and may try again a minute later', async () => {
    const clock = new FakeClock(Date.parse('2026-03-01T10:00:00Z'));
    const w = await setup({ clock, config: (c) => ({ ...c, receipts: { ...c.receipts, maxRefusalsPerMinute: 3 } }) });
    const a = await approved(w);
    const bad = () => call(w, 'POST', '/v1/receipts/redeem', w.keys.otherAgent, { receipt: 'x.y.z', action: runOf(a) });
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await bad()).status);
    assert.deepEqual(statuses, [400, 400, 400, 429, 429, 429, 429, 429, 429, 429]);
    const limited = await bad();
    assert.equal(limited.body.error.code, 'rate_limited');
    assert.equal(limited.headers['retry-after'], '60');
    const mine = (await auditRows(w)).filter((e) => e.actor_id === w.ids.otherAgent).map((e) => e.event);
    assert.deepEqual(mine, ['receipt.refused', 'receipt.refused', 'receipt.refused', 'receipt.refusals_throttled']);
    // Another agent is not held back by it.
    assert.equal((await redeem(w, a)).status, 200);
    await clock.advance(60_000);
    assert.equal((await bad()).status, 400);
  });
});
