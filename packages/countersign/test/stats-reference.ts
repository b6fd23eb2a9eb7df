import { sql } from 'kysely';
import { binSql } from '../src/db/stats-rollup/histogram.js';
import type { Deps } from '../src/deps.js';
import { ACTION_STATUSES, type ActionStatus } from '../src/domain/actions/status.js';
import { EDGES, fromHistogram } from '../src/domain/stats/decision-times.js';
import { statsRange } from '../src/domain/stats/range.js';
import type { StatsBucket, StatusCounts } from '../src/domain/stats/schemas.js';

/**
 * The dashboard's figures computed the way GET /v1/stats computed them before the rollup (migration 022):
 * GROUP BY queries straight over the actions and reviews tables. The tests hold the rollup's answers equal
 * to these on the same data; percentiles from the same histogram, so equal too.
 */
export async function referenceStats(deps: Deps, q: { from?: string; to?: string; bucket?: StatsBucket }) {
  const r = statsRange(deps.clock.now(), q);
  const db = deps.db.read;
  const b = sql<number>`created_at - created_at % ${sql.lit(r.size)}`;
  const zero = (): StatusCounts => Object.fromEntries(ACTION_STATUSES.map((s) => [s, 0])) as StatusCounts;
  const inRange = db.selectFrom('actions').where('created_at', '>=', r.from).where('created_at', '<', r.to);

  const byStart = new Map(r.starts.map((s) => [s, { start: s, ...zero() }]));
  const totals = zero();
  const counted = await inRange
    .select((eb) => [b.as('b'), 'status', eb.fn.countAll<number | string>().as('n')])
    .groupBy([b, 'status'])
    .execute();
  for (const row of counted) {
    const bucket = byStart.get(Number(row.b));
    if (!bucket) continue;
    bucket[row.status as ActionStatus] += Number(row.n);
    totals[row.status as ActionStatus] += Number(row.n);
  }

  const bin = binSql();
  const binned = await inRange
    .where('decided_by_type', '=', 'user')
    .where('decided_at', 'is not', null)
    .select((eb) => [b.as('b'), bin.as('bin'), eb.fn.countAll<number | string>().as('n')])
    .groupBy([b, bin])
    .execute();
  const hists = new Map<number, number[]>();
  for (const row of binned) {
    const h = hists.get(Number(row.b)) ?? new Array<number>(EDGES.length + 1).fill(0);
    h[Number(row.bin)] = Number(row.n);
    hists.set(Number(row.b), h);
  }
  const times = r.starts.map((start) => {
    const h = hists.get(start);
    const decided = h ? h.reduce((a, c) => a + c, 0) : 0;
    return { start, decided, p50_ms: h ? fromHistogram(h, 0.5) : null, p90_ms: h ? fromHistogram(h, 0.9) : null };
  });

  const top = async (column: 'tool' | 'agent_name') => {
    const name = sql<string>`${sql.ref(column)} || ''`;
    const rows = await inRange
      .select((eb) => [name.as('name'), eb.fn.countAll<number | string>().as('n')])
      .groupBy(name)
      .orderBy('n', 'desc')
      .orderBy('name')
      .limit(10)
      .execute();
    return rows.map((row) => ({ name: String(row.name), count: Number(row.n) }));
  };

  const votes = await db
    .selectFrom('reviews')
    .select((eb) => ['reviewer_email', 'decision', eb.fn.countAll<number | string>().as('n')])
    .where('created_at', '>=', r.from)
    .where('created_at', '<', r.to)
    .groupBy(['reviewer_email', 'decision'])
    .execute();
  const by = new Map<string, { reviewer: string; votes: number; approve: number; deny: number }>();
  for (const row of votes) {
    const e = by.get(row.reviewer_email) ?? { reviewer: row.reviewer_email, votes: 0, approve: 0, deny: 0 };
    e.votes += Number(row.n);
    if (row.decision === 'deny') e.deny += Number(row.n);
    else e.approve += Number(row.n);
    by.set(row.reviewer_email, e);
  }
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    totals: { ...totals, total: Object.values(totals).reduce((a, c) => a + c, 0) },
    outcomes: [...byStart.values()].map((o) => ({ ...o, start: iso(o.start) })),
    decision_times: times.map((t) => ({ ...t, start: iso(t.start) })),
    top_tools: await top('tool'),
    top_agents: await top('agent_name'),
    reviewers: [...by.values()].sort((a, b) => b.votes - a.votes || a.reviewer.localeCompare(b.reviewer)).slice(0, 20),
  };
}
