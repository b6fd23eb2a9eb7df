import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { migrateToLatest } from '../src/db/migrate.js';
import { backfillStatsRollup } from '../src/db/stats-rollup/backfill.js';
import { binOf, EDGES } from '../src/db/stats-rollup/histogram.js';
import { applyTransition, loadForUpdate } from '../src/domain/actions/transition.js';
import { getStats } from '../src/domain/stats/get-stats.js';
import { FakeClock } from '../src/lib/clock.js';
import { CsError } from '../src/lib/errors.js';
import { call, type Dialect, forEachDialect, propose, review, type World, world } from './helpers.js';
import { referenceStats } from './stats-reference.js';

/**
 * GET /v1/stats reads the rollup (stats_rollup, migration 022) that the committer keeps in the transaction of
 * each change it counts. Here it is held equal to the direct queries over the actions and reviews tables it
 * replaced (stats-reference.ts), and to its own back-fill, on data that crosses hours and a day.
 */

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
// 22:20 UTC: the history starts mid-hour and runs past midnight, so ranges cut hours and days.
const T0 = Date.UTC(2026, 0, 1, 22, 20);
const iso = (ms: number) => new Date(ms).toISOString();

type RollupRow = { kind: string; grain: number; start: number; key: string; n: number };

async function rollupRows(w: World): Promise<RollupRow[]> {
  const rows = await w.gw.deps.db.write.selectFrom('stats_rollup').selectAll().where('n', '<>', 0).execute();
  return rows
    .map((r) => ({ kind: r.kind, grain: Number(r.grain), start: Number(r.start), key: r.key, n: Number(r.n) }))
    .sort((a, b) => (a.kind + a.grain + a.start + a.key < b.kind + b.grain + b.start + b.key ? -1 : 1));
}

/** The rollup as the back-fill computes it from the tables, in a transaction of its own. */
async function backfill(w: World): Promise<void> {
  await w.gw.deps.committer.flush();
  await w.gw.deps.db.write.transaction().execute((tx) => backfillStatsRollup(tx));
}

const RANGES = (now: number) => [
  { bucket: 'hour' as const, from: iso(T0 - 3 * HOUR), to: iso(now + HOUR) },
  // Cut mid-hour at both ends: the range widens to whole hours, the current one still filling.
  { bucket: 'hour' as const, from: iso(T0 + 50 * MIN), to: iso(now - 10 * MIN) },
  // Whole days in the middle, partial days at both ends (hour rows then day rows then hour rows).
  { bucket: 'hour' as const, from: iso(T0 - 26 * HOUR), to: iso(now + 2 * HOUR) },
  { bucket: 'day' as const, from: iso(T0 - 3 * DAY), to: iso(now + DAY) },
  { bucket: 'day' as const },
];

forEachDialect('dashboard rollup', (dialect: Dialect) => {
  let w: World;
  const clock = new FakeClock(T0);
  const decided: string[] = [];
  const pending: string[] = [];
  before(async () => {
    w = await world(dialect, {
      clock,
      trustAnnotationsOf: ['deployer', 'other-agent'],
      config: (c) => ({
        ...c,
        review: { ...c.review, defaultExpiryMs: 30 * DAY },
        audit: { ...c.audit, checkpointIntervalMs: 30 * DAY },
      }),
    });
    // About eight hours of history: reviewed and rule-approved proposals of four tools by two agents, people
    // deciding some minutes to hours later, an agent cancelling one.
    for (let i = 0; i < 24; i++) {
      // Carol owns other-agent, so she may not review its actions: it proposes only what the rule approves.
      const readOnly = i % 5 === 4 || i % 7 === 3;
      const agentKey = readOnly && i % 2 === 1 ? w.keys.otherAgent : w.keys.agent;
      const r = await propose(w, { tool: `tool-${i % 4}`, ...(readOnly ? { annotations: { readOnlyHint: true } } : {}) }, agentKey);
      assert.ok(r.status === 200 || r.status === 201, JSON.stringify(r.body));
      if (r.body.status === 'pending') pending.push(r.body.id);
      await clock.advance(7 * MIN + (i % 3) * 5 * MIN);
      if (i % 4 === 1 && pending.length > 1) {
        const id = pending.shift() as string;
        const who = i % 8 === 1 ? w.keys.alice : w.keys.carol;
        const res = await review(w, id, who, i % 8 === 1 ? { decision: 'approve' } : { decision: 'deny', reason: 'not now' });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        decided.push(id);
      }
    }
    const cancelled = (await propose(w, { tool: 'tool-0' })).body.id;
    await clock.advance(4 * MIN);
    const c = await call(w, 'POST', `/v1/actions/${cancelled}/cancel`, w.keys.agent, {});
    assert.equal(c.status, 200, JSON.stringify(c.body));
  });
  after(async () => w?.close());

  test('every range reads the same figures from the rollup as the direct queries over the tables', async () => {
    for (const q of RANGES(clock.now())) {
      const [got, want] = [await getStats(w.gw.deps, q), await referenceStats(w.gw.deps, q)];
      assert.deepEqual(
        { ...want },
        {
          totals: got.totals,
          outcomes: got.outcomes,
          decision_times: got.decision_times,
          top_tools: got.top_tools,
          top_agents: got.top_agents,
          reviewers: got.reviewers,
        },
        JSON.stringify(q),
      );
    }
    const all = await getStats(w.gw.deps, RANGES(clock.now())[0] as { bucket: 'hour'; from: string; to: string });
    assert.ok(all.totals.total >= 24 && all.reviewers.length === 2 && all.decision_times.some((d) => d.decided > 0));
  });

  test('a percentile is within one histogram bin of the exact one', async () => {
    const rows = await w.gw.deps.db.read
      .selectFrom('actions')
      .select(['created_at', 'decided_at'])
      .where('decided_by_type', '=', 'user')
      .execute();
    const byHour = new Map<number, number[]>();
    for (const r of rows) {
      const h = Number(r.created_at) - (Number(r.created_at) % HOUR);
      byHour.set(h, [...(byHour.get(h) ?? []), Number(r.decided_at) - Number(r.created_at)]);
    }
    const s = await getStats(w.gw.deps, RANGES(clock.now())[0] as { bucket: 'hour'; from: string; to: string });
    for (const t of s.decision_times) {
      const times = (byHour.get(Date.parse(t.start)) ?? []).sort((a, b) => a - b);
      assert.equal(t.decided, times.length);
      if (times.length === 0) continue;
      // percentile_cont's definition: interpolated between the values around p × (n - 1).
      const exact = (p: number) => {
        const x = p * (times.length - 1);
        const lo = times[Math.floor(x)] as number;
        return lo + (x - Math.floor(x)) * ((times[Math.ceil(x)] as number) - lo);
      };
      assert.ok(Math.abs(binOf(t.p50_ms as number) - binOf(exact(0.5))) <= 1, `${t.p50_ms} vs ${exact(0.5)}`);
      assert.ok(Math.abs(binOf(t.p90_ms as number) - binOf(exact(0.9))) <= 1, `${t.p90_ms} vs ${exact(0.9)}`);
    }
    assert.ok(EDGES.length > 30);
  });

  test('the rollup the committer kept equals its back-fill, and a second back-fill changes nothing', async () => {
    const live = await rollupRows(w);
    assert.ok(live.length > 0);
    await backfill(w);
    assert.deepEqual(await rollupRows(w), live);
    await backfill(w);
    assert.deepEqual(await rollupRows(w), live);
  });

  test('a status change and its count commit or roll back together', async () => {
    const id = pending[0] as string;
    const before = await rollupRows(w);
    const denyThenFail = w.gw.deps.committer.run(async (tx) => {
      const row = await loadForUpdate(tx, id, { lock: true });
      await applyTransition(tx, row, 'deny', {
        decided_at: tx.now,
        decided_by_type: 'user',
        decided_by_id: w.ids.alice,
        decided_by_label: 'alice@example.com',
        reason: 'rolled back',
      });
      // A refusal after the write, as an op's later check would throw: the whole op must leave nothing.
      throw new CsError('conflict', 'the op fails after its transition');
    });
    // Queued in the same batch: rolled back with the failing op, then run again alone, and counted once.
    const other = pending[1] as string;
    const denied = review(w, other, w.keys.carol, { decision: 'deny', reason: 'no' });
    await assert.rejects(denyThenFail, /fails after its transition/);
    assert.equal((await denied).status, 200);
    assert.equal((await call(w, 'GET', `/v1/actions/${id}`, w.keys.victor)).body.status, 'pending');
    const after = await rollupRows(w);
    assert.notDeepEqual(after, before);
    await backfill(w);
    assert.deepEqual(await rollupRows(w), after, 'no count for the rolled-back deny, one for the committed one');
    decided.push(other);
    pending.splice(1, 1);
  });

  test('concurrent decisions on the same actions count exactly once each', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await propose(w, { tool: 'race' })).body.id);
    await clock.advance(3 * MIN);
    const results = await Promise.all(
      ids.flatMap((id) => [
        review(w, id, w.keys.alice, { decision: 'approve' }),
        review(w, id, w.keys.carol, { decision: 'deny', reason: 'mine' }),
      ]),
    );
    const wins = results.filter((r) => r.status === 200).length;
    assert.equal(wins, ids.length, results.map((r) => r.status).join(','));
    assert.ok(results.every((r) => r.status === 200 || r.status === 409));
    const s = await getStats(w.gw.deps, { bucket: 'hour', from: iso(clock.now() - HOUR), to: iso(clock.now() + HOUR) });
    const race = s.top_tools.find((t) => t.name === 'race');
    assert.equal(race?.count, ids.length);
    const live = await rollupRows(w);
    await backfill(w);
    assert.deepEqual(await rollupRows(w), live);
    for (const q of RANGES(clock.now())) {
      const got = await getStats(w.gw.deps, q);
      const want = await referenceStats(w.gw.deps, q);
      assert.deepEqual([got.totals, got.reviewers], [want.totals, want.reviewers]);
    }
  });

  test('the migration back-fills a database that already holds actions', async () => {
    const live = await rollupRows(w);
    await w.gw.deps.committer.flush();
    const db = w.gw.deps.db.write;
    await sql`drop table stats_rollup`.execute(db);
    await db
      .deleteFrom('cs_migrations' as never)
      .where('name' as never, '=', '022-stats-rollup' as never)
      .execute();
    assert.deepEqual(await migrateToLatest(w.gw.deps.db), ['022-stats-rollup']);
    assert.deepEqual(await rollupRows(w), live);
  });

  test('the endpoint answers people and refuses agents (403) and the unauthenticated (401)', async () => {
    assert.equal((await call(w, 'GET', '/v1/stats', w.keys.victor)).status, 200);
    assert.equal((await call(w, 'GET', '/v1/stats', w.keys.agent)).status, 403);
    assert.equal((await call(w, 'GET', '/v1/stats')).status, 401);
  });
});
