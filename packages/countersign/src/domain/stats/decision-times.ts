import { sql } from 'kysely';
import type { Deps } from '../../deps.js';
import type { StatsRange } from './range.js';

/**
 * Histogram edges (ms) for time to decision where the database has no percentile function (SQLite): from one
 * second to thirty days, each edge at most 2.5 times the one before (1.5 from a minute on), so an
 * interpolated percentile is off by at most the width of its bin. Bounded: a bucket's histogram is at most
 * EDGES.length + 1 rows, however many actions it holds.
 */
export const EDGES = [
  1, 2, 5, 10, 15, 30, 45, 60, 90, 120, 180, 300, 450, 600, 900, 1200, 1800, 2700, 3600, 5400, 7200, 10800, 14400, 21600, 28800, 43200,
  64800, 86400, 129600, 172800, 259200, 345600, 432000, 604800, 907200, 1209600, 1814400, 2592000,
].map((s) => s * 1000);

export interface DecisionTimes {
  start: number;
  decided: number;
  p50_ms: number | null;
  p90_ms: number | null;
}

/**
 * Time from proposal to a person's decision (decided_by_type 'user': rules, grants, expiry and agents'
 * cancellations are not review latency), per bucket of creation time. PostgreSQL computes exact
 * percentiles (percentile_cont); elsewhere a bounded histogram per bucket is read and interpolated.
 */
export async function decisionTimes(deps: Deps, r: StatsRange): Promise<DecisionTimes[]> {
  const b = sql<number>`created_at - created_at % ${sql.lit(r.size)}`;
  const base = deps.db.read
    .selectFrom('actions')
    .where('created_at', '>=', r.from)
    .where('created_at', '<', r.to)
    .where('decided_by_type', '=', 'user')
    .where('decided_at', 'is not', null);
  const out = new Map<number, DecisionTimes>(r.starts.map((s) => [s, { start: s, decided: 0, p50_ms: null, p90_ms: null }]));
  if (deps.db.caps.percentileCont) {
    const d = sql`decided_at - created_at`;
    const rows = await base
      .select((eb) => [
        b.as('b'),
        eb.fn.countAll<number | string>().as('n'),
        sql<number | string>`percentile_cont(0.5) within group (order by ${d})`.as('p50'),
        sql<number | string>`percentile_cont(0.9) within group (order by ${d})`.as('p90'),
      ])
      .groupBy(b)
      .execute();
    for (const row of rows) {
      const t = out.get(Number(row.b));
      if (!t) continue;
      t.decided = Number(row.n);
      t.p50_ms = Math.round(Number(row.p50));
      t.p90_ms = Math.round(Number(row.p90));
    }
    return [...out.values()];
  }
  const bin = sql<number>`case ${sql.join(
    EDGES.map((e, i) => sql`when decided_at - created_at < ${sql.lit(e)} then ${sql.lit(i)}`),
    sql` `,
  )} else ${sql.lit(EDGES.length)} end`;
  const rows = await base
    .select((eb) => [b.as('b'), bin.as('bin'), eb.fn.countAll<number | string>().as('n')])
    .groupBy([b, bin])
    .execute();
  const hists = new Map<number, number[]>();
  for (const row of rows) {
    const h = hists.get(Number(row.b)) ?? new Array<number>(EDGES.length + 1).fill(0);
    h[Number(row.bin)] = Number(row.n);
    hists.set(Number(row.b), h);
  }
  for (const [start, h] of hists) {
    const t = out.get(start);
    if (!t) continue;
    t.decided = h.reduce((a, c) => a + c, 0);
    t.p50_ms = fromHistogram(h, 0.5);
    t.p90_ms = fromHistogram(h, 0.9);
  }
  return [...out.values()];
}

/** The p-quantile from counts per EDGES bin, linearly interpolated inside its bin (the open last bin reports its lower edge). */
export function fromHistogram(counts: number[], p: number): number | null {
  const n = counts.reduce((a, c) => a + c, 0);
  if (n === 0) return null;
  const rank = p * n;
  let seen = 0;
  for (const [i, c] of counts.entries()) {
    if (c > 0 && seen + c >= rank) {
      const lo = i === 0 ? 0 : (EDGES[i - 1] as number);
      const hi = EDGES[i];
      if (hi === undefined) return lo;
      return Math.round(lo + ((rank - seen) / c) * (hi - lo));
    }
    seen += c;
  }
  return EDGES[EDGES.length - 1] as number;
}
