import { sql } from 'kysely';
import type { Deps } from '../../deps.js';
import { ACTION_STATUSES, type ActionStatus } from '../actions/status.js';
import type { StatsRange } from './range.js';
import type { StatusCounts } from './schemas.js';

const zero = (): StatusCounts => Object.fromEntries(ACTION_STATUSES.map((s) => [s, 0])) as StatusCounts;
const isStatus = (s: string): s is ActionStatus => (ACTION_STATUSES as readonly string[]).includes(s);

/**
 * Actions created in the range, per bucket and status: one GROUP BY over the range of the covering index
 * actions_created_stats (migration 014), so the table's wide rows are never read.
 */
export async function outcomeCounts(
  deps: Deps,
  r: StatsRange,
): Promise<{ buckets: (StatusCounts & { start: number })[]; totals: StatusCounts }> {
  // A literal bucket size (a number this code chose), so the select and the GROUP BY are the same expression on PostgreSQL.
  const b = sql<number>`created_at - created_at % ${sql.lit(r.size)}`;
  const rows = await deps.db.read
    .selectFrom('actions')
    .select((eb) => [b.as('b'), 'status', eb.fn.countAll<number | string>().as('n')])
    .where('created_at', '>=', r.from)
    .where('created_at', '<', r.to)
    .groupBy([b, 'status'])
    .execute();
  const byStart = new Map(r.starts.map((s) => [s, { start: s, ...zero() }]));
  const totals = zero();
  for (const row of rows) {
    const bucket = byStart.get(Number(row.b));
    if (!bucket || !isStatus(row.status)) continue;
    bucket[row.status] += Number(row.n);
    totals[row.status] += Number(row.n);
  }
  return { buckets: [...byStart.values()], totals };
}

/** Approved (a run licensed, whatever came of it) over approved plus denied; expiries and cancellations decide nothing. */
export function approvalRate(t: StatusCounts): number | null {
  const approved = t.approved + t.executed + t.failed;
  const decided = approved + t.denied;
  return decided === 0 ? null : approved / decided;
}
