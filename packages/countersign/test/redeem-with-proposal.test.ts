import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { auditRows, call, forEachDialect, propose, review, type World, withPolicy, world } from './helpers.js';

const DENY_DROPS = `
policy:
  default: allow
  rules:
    - name: no-drops
      when: tool == "drop_table"
      effect: deny
      reason: tables are never dropped by agents
`;
const READ = { tool: 'get_logs', arguments: { lines: 10 }, annotations: { readOnlyHint: true } };
const proposeRedeeming = (w: World, body: Record<string, unknown>, headers: Record<string, string> = {}, key = w.keys.agent) =>
  call(w, 'POST', '/v1/actions?redeem=true', key, { tool: 'deploy', arguments: { env: 'production' }, ...body }, headers);
const runOf = (a: { id: string; tool: string; arguments: unknown; resource: string | null }) => ({
  id: a.id,
  tool: a.tool,
  arguments: a.arguments,
  resource: a.resource,
});

forEachDialect('redeeming with the proposal', (dialect) => {
  const open: World[] = [];
  afterEach(async () => {
    for (const w of open.splice(0)) await w.close();
  });
  async function setup() {
    const w = await world(dialect, { trustAnnotationsOf: ['deployer'] });
    open.push(w);
    return w;
  }

  test('an action the policy allows at once comes back redeemed, audited and announced in the same transaction', async () => {
    const w = await setup();
    const r = await proposeRedeeming(w, READ);
    assert.equal(r.status, 201);
    assert.equal(r.body.status, 'approved');
    assert.equal(r.body.redeemed, true);
    assert.ok(r.body.receipt, 'the receipt is still there, to prove what was approved');
    assert.equal(r.body.redeemed_at, r.body.decided_at);
    const rows = await auditRows(w, r.body.id);
    assert.deepEqual(
      rows.map((e) => e.event),
      ['action.created', 'action.approved', 'receipt.issued', 'receipt.redeemed'],
    );
    assert.equal(new Set(rows.map((e) => e.ts)).size, 1, 'one transaction, one time');
    assert.deepEqual(JSON.parse(String(rows[3]?.data)), { jti: JSON.parse(String(rows[2]?.data)).jti, with_proposal: true });
    const events = await w.gw.deps.db.read.selectFrom('events').select('type').where('action_id', '=', r.body.id).orderBy('seq').execute();
    assert.deepEqual(
      events.map((e) => e.type),
      ['action.created', 'action.approved', 'action.redeemed'],
    );
    const seen = (await call(w, 'GET', `/v1/actions/${r.body.id}`, w.keys.alice)).body;
    assert.equal(seen.redeemed_at, r.body.redeemed_at);
    assert.equal(seen.redeemed, undefined, 'only the proposing answer carries the licence to run');
  });

  test('the receipt of an action redeemed with its proposal cannot be redeemed again', async () => {
    const w = await setup();
    const a = (await proposeRedeeming(w, READ)).body;
    const again = await call(w, 'POST', '/v1/receipts/redeem', w.keys.agent, { receipt: a.receipt, action: runOf(a) });
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'receipt_used');
  });

  test('a replay of a redeeming proposal returns the same action without licensing a second run', async () => {
    const w = await setup();
    const headers = { 'idempotency-key': 'call-42' };
    const first = await proposeRedeeming(w, READ, headers);
    const replay = await proposeRedeeming(w, READ, headers);
    assert.equal(replay.status, 200);
    assert.equal(replay.body.id, first.body.id);
    assert.equal(replay.body.redeemed, undefined);
    assert.equal(replay.body.redeemed_at, first.body.redeemed_at);
    const redeemed = (await auditRows(w, first.body.id)).filter((e) => e.event === 'receipt.redeemed');
    assert.equal(redeemed.length, 1);
  });

  test('an action sent to review is not redeemed by its proposal; it redeems as usual once approved', async () => {
    const w = await setup();
    const p = await proposeRedeeming(w, {});
    assert.equal(p.body.status, 'pending');
    assert.equal(p.body.redeemed, undefined);
    assert.equal(p.body.redeemed_at, null);
    const approved = (await review(w, p.body.id, w.keys.alice, { decision: 'approve' })).body;
    assert.equal(approved.redeemed_at, null);
    const r = await call(w, 'POST', '/v1/receipts/redeem', w.keys.agent, { receipt: approved.receipt, action: runOf(approved) });
    assert.equal(r.status, 200);
  });

  test('an action the policy denies is not redeemed and has no receipt', async () => {
    const w = await world(dialect, { config: withPolicy(DENY_DROPS) });
    open.push(w);
    const r = await proposeRedeeming(w, { tool: 'drop_table', arguments: {} });
    assert.equal(r.status, 201);
    assert.equal(r.body.status, 'denied');
    assert.equal(r.body.redeemed, undefined);
    assert.equal(r.body.receipt, null);
  });

  test('a person’s key cannot propose, redeeming or not, and nothing is written', async () => {
    const w = await setup();
    const before = (await auditRows(w)).length;
    const r = await proposeRedeeming(w, READ, {}, w.keys.alice);
    assert.equal(r.status, 403);
    assert.equal((await auditRows(w)).length, before);
  });

  test('redeem takes only true or false', async () => {
    const w = await setup();
    const r = await call(w, 'POST', '/v1/actions?redeem=yes', w.keys.agent, READ);
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, 'invalid_request');
    const plain = await propose(w, READ);
    assert.equal(plain.body.redeemed_at, null, 'without redeem the proposal leaves the receipt unused');
  });
});
