import { EDGES } from '../../db/stats-rollup/histogram.js';
import type { Deps } from '../../deps.js';
import type { StatsRange } from './range.js';
import { rollupPerBucket } from './read-rollup.js';

export { EDGES } from '../../db/stats-rollup/histogram.js';

export interface DecisionTimes {
  start: number;
  decided: number;
  p50_ms: number | null;
  p90_ms: number | null;
}

/**
 * Time from proposal to a person's decision (decided_by_type 'user': rules, grants, expiry and agents'
 * cancellations are not review latency), per bucket of creation time: each bucket's histogram (EDGES) summed
 * from the rollup and interpolated, on both databases, so a percentile is within its bin's width of the exact
 * one (at most 2.5× the bin's lower edge below a minute, 1.5× from a minute on); the count is exact.
 */
export async function decisionTimes(deps: Deps, r: StatsRange): Promise<DecisionTimes[]> {
  const hists = new Map<number, number[]>();
  for (const row of await rollupPerBucket(deps, r, 'decision_time')) {
    const bin = Number(row.key);
    if (!(bin >= 0 && bin <= EDGES.length)) continue;
    const h = hists.get(row.start) ?? new Array<number>(EDGES.length + 1).fill(0);
    h[bin] = (h[bin] as number) + row.n;
    hists.set(row.start, h);
  }
  return r.starts.map((start) => {
    const h = hists.get(start);
    const decided = h ? h.reduce((a, c) => a + c, 0) : 0;
    if (!h || decided === 0) return { start, decided: 0, p50_ms: null, p90_ms: null };
    return { start, decided, p50_ms: fromHistogram(h, 0.5), p90_ms: fromHistogram(h, 0.9) };
  });
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
