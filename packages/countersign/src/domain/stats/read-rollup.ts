import { type ExpressionBuilder, sql } from 'kysely';
import { DAY, HOUR, type RollupKind } from '../../db/stats-rollup/tallies.js';
import type { DB } from '../../db/types.js';
import type { Deps } from '../../deps.js';
import type { StatsRange } from './range.js';

/**
 * Reads of the dashboard's rollup (stats_rollup, migration 022). A range is whole buckets (range.ts), so
 * whole hours: every figure comes from the rollup alone, with no partial hour to top up from the actions
 * table, and the rollup changes in the transaction of the change it counts, so it is as current as the table.
 */

/** Per bucket: the rows of the bucket's own grain (an hour or a day) in the range, for these kinds. */
export async function rollupPerBucket(
  deps: Deps,
  r: StatsRange,
  kinds: readonly RollupKind[],
): Promise<{ kind: string; start: number; key: string; n: number }[]> {
  const rows = await deps.db.read
    .selectFrom('stats_rollup')
    .select(['kind', 'start', 'key', 'n'])
    .where('kind', 'in', kinds)
    .where('grain', '=', r.size)
    .where('start', '>=', r.from)
    .where('start', '<', r.to)
    .execute();
  return rows.map((row) => ({ kind: row.kind, start: Number(row.start), key: row.key, n: Number(row.n) }));
}

/**
 * Over the whole range, per key (and kind), most first then by key, non-zero only: whole days from the day
 * rows, the hours before the first and after the last whole day from the hour rows. At most 2 × 23 hour
 * rows and one row per day for each key, however many actions the range holds.
 */
export async function rollupTotals(
  deps: Deps,
  r: StatsRange,
  kinds: readonly RollupKind[],
  limit?: number,
): Promise<{ kind: string; key: string; n: number }[]> {
  const dayFrom = Math.ceil(r.from / DAY) * DAY;
  const dayTo = Math.floor(r.to / DAY) * DAY;
  const span = (eb: ExpressionBuilder<DB, 'stats_rollup'>, grain: number, from: number, to: number) =>
    eb.and([eb('grain', '=', grain), eb('start', '>=', from), eb('start', '<', to)]);
  const total = sql<number | string>`sum(n)`;
  let q = deps.db.read
    .selectFrom('stats_rollup')
    .select(['kind', 'key', total.as('n')])
    .where('kind', 'in', kinds)
    .where((eb) =>
      dayFrom < dayTo
        ? eb.or([span(eb, HOUR, r.from, dayFrom), span(eb, DAY, dayFrom, dayTo), span(eb, HOUR, dayTo, r.to)])
        : span(eb, HOUR, r.from, r.to),
    )
    .groupBy(['kind', 'key'])
    .having(total, '>', 0)
    .orderBy(total, 'desc')
    .orderBy('key');
  if (limit !== undefined) q = q.limit(limit);
  const rows = await q.execute();
  return rows.map((row) => ({ kind: row.kind, key: row.key, n: Number(row.n) }));
}
