import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { verifyAudit } from '../src/domain/audit/verify-audit.js';
import { type ApiResponse, call, forEachDialect, propose, review, type World, world } from './helpers.js';

const N = 60;
const DECISIONS = 30;
const JSON_TYPE = { 'content-type': 'application/json' };

/** One poisoned proposal per field the issue found reaching the audit step, in turn. */
const POISONED = [
  '{"tool":"deploy","arguments":{"n":1e400}}',
  '{"tool":"deploy","arguments":{"s":"\\ud800"}}',
  '{"tool":"deploy","arguments":{"\\ud800":1}}',
  '{"tool":"deploy","arguments":{"n":18446744073709551617}}',
  '{"tool":"deploy","arguments":{},"session_id":"\\ud800"}',
  '{"tool":"deploy","arguments":{},"resource":"\\udfff"}',
];

const histogram = (rs: ApiResponse[]) =>
  rs.reduce<Record<string, number>>((h, r) => {
    h[r.status] = (h[r.status] ?? 0) + 1;
    return h;
  }, {});

forEachDialect('a poison pill', (dialect) => {
  let w: World;
  before(async () => {
    w = await world(dialect);
  });
  after(async () => w.close());

  test("one agent's poisoned proposals are refused while another agent's proposals and a reviewer's decisions sent with them all succeed", async (t) => {
    const pending: string[] = [];
    for (let i = 0; i < DECISIONS; i++) pending.push((await propose(w, { arguments: { i } }, w.keys.otherAgent)).body.id);
    // All at once, interleaved, so the committer batches good and poisoned writes together.
    const good: Promise<ApiResponse>[] = [];
    const bad: Promise<ApiResponse>[] = [];
    const decisions: Promise<ApiResponse>[] = [];
    for (let i = 0; i < N; i++) {
      good.push(propose(w, { arguments: { env: 'production', i } }));
      bad.push(call(w, 'POST', '/v1/actions', w.keys.otherAgent, POISONED[i % POISONED.length], JSON_TYPE));
      if (i < DECISIONS)
        decisions.push(review(w, pending[i] as string, w.keys.alice, { decision: i % 2 ? 'deny' : 'approve', reason: `#${i}` }));
    }
    const figures = {
      good: histogram(await Promise.all(good)),
      poisoned: histogram(await Promise.all(bad)),
      decisions: histogram(await Promise.all(decisions)),
    };
    t.diagnostic(`${dialect}: ${JSON.stringify(figures)}`);
    assert.deepEqual(figures, { good: { 201: N }, poisoned: { 400: N }, decisions: { 200: DECISIONS } });
    assert.equal((await verifyAudit(w.gw.deps.db.read)).ok, true, 'the chain verifies');
  });
});
