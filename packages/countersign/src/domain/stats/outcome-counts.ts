import type { Deps } from '../../deps.js';
import { ACTION_STATUSES, type ActionStatus } from '../actions/status.js';
import type { StatsRange } from './range.js';
import { rollupPerBucket } from './read-rollup.js';
import type { StatusCounts } from './schemas.js';

const zero = (): StatusCounts => Object.fromEntries(ACTION_STATUSES.map((s) => [s, 0])) as StatusCounts;
const isStatus = (s: string): s is ActionStatus => (ACTION_STATUSES as readonly string[]).includes(s);

/**
 * Actions created in the range, per bucket and by status now: the rollup's status rows of the bucket's grain
 * (at most 7 a bucket), kept by the transition that changes a status (domain/stats/tallies.ts).
 */
export async function outcomeCounts(
  deps: Deps,
  r: StatsRange,
): Promise<{ buckets: (StatusCounts & { start: number })[]; totals: StatusCounts }> {
  const rows = await rollupPerBucket(deps, r, 'status');
  const byStart = new Map(r.starts.map((s) => [s, { start: s, ...zero() }]));
  const totals = zero();
  for (const row of rows) {
    const bucket = byStart.get(row.start);
    if (!bucket || !isStatus(row.key)) continue;
    bucket[row.key] += row.n;
    totals[row.key] += row.n;
  }
  return { buckets: [...byStart.values()], totals };
}

/** Approved (a run licensed, whatever came of it) over approved plus denied; expiries and cancellations decide nothing. */
export function approvalRate(t: StatusCounts): number | null {
  const approved = t.approved + t.executed + t.failed;
  const decided = approved + t.denied;
  return decided === 0 ? null : approved / decided;
}
