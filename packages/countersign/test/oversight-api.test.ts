import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { verifyExport } from '../src/domain/audit/verify-export.js';
import { EDGES, fromHistogram } from '../src/domain/stats/decision-times.js';
import { FakeClock } from '../src/lib/clock.js';
import { auditRows, call, forEachDialect, propose, review, type World, world } from './helpers.js';

/** The API behind the console's history, dashboard and audit pages (routes in http/routes/oversight.ts, GET /v1/actions filters). */

const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;
const HOUR = 60 * MIN;
const iso = (ms: number) => new Date(ms).toISOString();

describe('time to decision from a histogram', () => {
  test('a percentile is interpolated inside its bin and stays within the bin', () => {
    const counts = new Array<number>(EDGES.length + 1).fill(0);
    const i = EDGES.indexOf(1_800_000) + 1; // the bin [30 min, 45 min)
    counts[i] = 4;
    assert.equal(fromHistogram(counts, 0.5), 1_800_000 + 0.5 * 900_000);
    assert.equal(fromHistogram(counts, 1), 2_700_000);
    assert.equal(fromHistogram(new Array<number>(EDGES.length + 1).fill(0), 0.5), null);
  });
  test('the open last bin reports its lower edge', () => {
    const counts = new Array<number>(EDGES.length + 1).fill(0);
    counts[EDGES.length] = 1;
    assert.equal(fromHistogram(counts, 0.9), EDGES[EDGES.length - 1]);
  });
});

forEachDialect('history, dashboard and audit API', (dialect) => {
  let w: World;
  const clock = new FakeClock(T0);
  const ids: Record<'a' | 'b' | 'c' | 'd', string> = { a: '', b: '', c: '', d: '' };
  before(async () => {
    // No checkpoints while the fake clock moves (each would be a write); deadlines far beyond the test.
    w = await world(dialect, {
      clock,
      config: (c) => ({
        ...c,
        review: { ...c.review, defaultExpiryMs: 30 * 24 * HOUR },
        audit: { ...c.audit, checkpointIntervalMs: 24 * HOUR },
      }),
    });
    ids.a = (await propose(w, { tool: 'deploy', purpose: 'ship 100% of 1.4' })).body.id;
    await clock.advance(30 * MIN);
    const approved = (await review(w, ids.a, w.keys.alice, { decision: 'approve' })).body;
    // Redeemed, so the approval stands when the execution window closes.
    const run = { id: approved.id, tool: approved.tool, arguments: approved.arguments, resource: approved.resource };
    assert.equal((await call(w, 'POST', '/v1/receipts/redeem', w.keys.agent, { receipt: approved.receipt, action: run })).status, 200);
    ids.b = (await propose(w, { tool: 'drop-table', arguments: { t: 'x' }, purpose: 'clean up_old tables' })).body.id;
    await clock.advance(HOUR);
    assert.equal((await review(w, ids.b, w.keys.carol, { decision: 'deny', reason: 'no' })).status, 200);
    ids.c = (await propose(w, { tool: 'deploy', arguments: { env: 'staging' }, purpose: 'ship 1000 things' })).body.id;
    await clock.advance(2 * HOUR);
    ids.d = (await propose(w, { tool: 'rotate-keys', arguments: { s: 'billing' }, purpose: 'Quarterly ROTATION' })).body.id;
  });
  after(async () => w?.close());

  const list = async (q: string) => {
    const r = await call(w, 'GET', `/v1/actions?${q}`, w.keys.victor);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.items.map((a: { id: string }) => a.id);
  };

  test('history filters by who decided, by purpose text (wildcards taken literally) and by time', async () => {
    assert.deepEqual(await list('decided_by=alice@example.com'), [ids.a]);
    assert.deepEqual(await list('decided_by=CAROL@example.com'), [ids.b]);
    assert.deepEqual(await list('q=100%25'), [ids.a], '% matches itself, not "1000"');
    assert.deepEqual(await list('q=up_old'), [ids.b]);
    assert.deepEqual(await list('q=_'), [ids.b], '_ matches only an underscore');
    assert.deepEqual(await list('q=rotation'), [ids.d], 'ASCII letters match in any case');
    assert.deepEqual(await list(`to=${iso(T0 + 2 * HOUR)}`), [ids.c, ids.b, ids.a]);
    assert.deepEqual(await list(`from=${iso(T0 + 31 * MIN)}&to=${iso(T0 + 2 * HOUR)}`), [ids.c]);
    assert.deepEqual(await list(`from=${iso(T0 + 2 * HOUR)}`), [ids.d]);
    assert.deepEqual(await list('status=pending&tool=deploy'), [ids.c]);
  });

  test('history filters by workflow name', async () => {
    const a = (await call(w, 'GET', `/v1/actions/${ids.a}`, w.keys.victor)).body;
    const name = a.policy.workflow as string;
    assert.ok(name, 'the action was reviewed under a workflow');
    assert.deepEqual(await list(`workflow=${encodeURIComponent(name)}`), [ids.d, ids.c, ids.b, ids.a]);
    assert.deepEqual(await list('workflow=no-such-workflow'), []);
  });

  test('history refuses a bad filter with 400 and an unauthenticated caller with 401', async () => {
    for (const q of ['from=yesterday', `from=${iso(T0 + HOUR)}&to=${iso(T0)}`, `q=${'x'.repeat(101)}`, 'decided_by=', 'q=%01']) {
      const r = await call(w, 'GET', `/v1/actions?${q}`, w.keys.alice);
      assert.equal(r.status, 400, `${q}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, 'invalid_request');
    }
    assert.equal((await call(w, 'GET', '/v1/actions?q=ship')).status, 401);
    // An agent sees only its own actions, filters or not.
    assert.deepEqual((await call(w, 'GET', '/v1/actions?q=ship', w.keys.otherAgent)).body.items, []);
  });

  test('the dashboard counts a known set: outcomes, approval rate, time to decision, pending ages, leaders', async () => {
    const r = await call(w, 'GET', `/v1/stats?from=${iso(T0)}&to=${iso(T0 + 2 * HOUR)}&bucket=hour`, w.keys.victor);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const s = r.body;
    assert.equal(s.totals.total, 3);
    assert.deepEqual([s.totals.approved, s.totals.denied, s.totals.pending], [1, 1, 1]);
    assert.equal(s.approval_rate, 0.5);
    assert.deepEqual(
      s.outcomes.map((b: { start: string; approved: number; denied: number; pending: number }) => [
        b.start,
        b.approved,
        b.denied,
        b.pending,
      ]),
      [
        [iso(T0), 1, 1, 0],
        [iso(T0 + HOUR), 0, 0, 1],
      ],
    );
    const first = s.decision_times[0];
    assert.equal(first.decided, 2);
    // Alice took 30 minutes, carol an hour (exact: 45 and 57 minutes): within the histogram's bins on both databases.
    assert.ok(first.p50_ms >= 30 * MIN && first.p50_ms <= 60 * MIN, String(first.p50_ms));
    assert.ok(first.p90_ms >= 45 * MIN && first.p90_ms <= 90 * MIN, String(first.p90_ms));
    assert.deepEqual(s.decision_times[1], { start: iso(T0 + HOUR), decided: 0, p50_ms: null, p90_ms: null });
    // Now is 3.5 h after T0: d was just proposed, c has waited 2 hours.
    assert.deepEqual(
      s.pending_ages.map((a: { count: number }) => a.count),
      [1, 1, 0, 0],
    );
    assert.deepEqual(s.top_tools, [
      { name: 'deploy', count: 2 },
      { name: 'drop-table', count: 1 },
    ]);
    assert.deepEqual(s.top_agents, [{ name: 'deployer', count: 3 }]);
    assert.deepEqual(s.reviewers, [
      { reviewer: 'alice@example.com', votes: 1, approve: 1, deny: 0 },
      { reviewer: 'carol@example.com', votes: 1, approve: 0, deny: 1 },
    ]);
  });

  test('the dashboard refuses bad ranges with 400 and agents with 403', async () => {
    for (const q of [
      `from=${iso(T0)}&to=${iso(T0 + 30 * 24 * HOUR)}&bucket=hour`,
      `from=${iso(T0 + HOUR)}&to=${iso(T0)}`,
      'bucket=week',
      'from=soon',
    ]) {
      const r = await call(w, 'GET', `/v1/stats?${q}`, w.keys.alice);
      assert.equal(r.status, 400, `${q}: ${JSON.stringify(r.body)}`);
    }
    assert.equal((await call(w, 'GET', '/v1/stats', w.keys.agent)).status, 403);
    assert.equal((await call(w, 'GET', '/v1/stats')).status, 401);
  });

  test('the chain status names the stored head; a verification run by an admin finds the chain intact', async () => {
    const rows = await auditRows(w);
    const last = rows[rows.length - 1];
    const head = await call(w, 'GET', '/v1/audit/head', w.keys.victor);
    assert.equal(head.status, 200);
    assert.deepEqual([head.body.length, head.body.head_hash], [Number(last?.seq), last?.hash]);
    const v = await call(w, 'POST', '/v1/audit/verify', w.keys.ada, {});
    assert.equal(v.status, 200, JSON.stringify(v.body));
    assert.equal(v.body.ok, true);
    assert.equal(v.body.entries, rows.length);
    assert.equal(v.body.first_bad, null);
    assert.equal((await call(w, 'POST', '/v1/audit/verify', w.keys.alice, {})).status, 403);
    assert.equal((await call(w, 'GET', '/v1/audit/head', w.keys.agent)).status, 403);
  });

  test('the export is the whole log as JSON lines, which the offline verifier accepts', async () => {
    const r = await call(w, 'GET', '/v1/audit/export', w.keys.alice);
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^application\/x-ndjson/);
    assert.match(String(r.headers['content-disposition']), /attachment; filename="countersign-audit\.jsonl"/);
    const text = typeof r.body === 'string' ? r.body : `${JSON.stringify(r.body)}\n`;
    const dir = mkdtempSync(join(tmpdir(), 'cs-export-'));
    try {
      const file = join(dir, 'export.jsonl');
      writeFileSync(file, text);
      const v = await verifyExport({ file, checkpointFiles: [] });
      assert.equal(v.ok, true, v.firstBad?.problem);
      assert.equal(v.entries, (await auditRows(w)).length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.equal((await call(w, 'GET', '/v1/audit/export', w.keys.agent)).status, 403);
  });
});
