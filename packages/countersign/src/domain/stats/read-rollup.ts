import { sql } from 'kysely';
import { DAY, HOUR, type RollupKind } from '../../db/stats-rollup/tallies.js';
import type { Deps } from '../../deps.js';
import type { StatsRange } from './range.js';

/**
 * Reads of the dashboard's rollup (stats_rollup, migration 022). A range is whole buckets (range.ts), so
 * whole hours: every figure comes from the rollup alone, with no partial hour to top up from the actions
 * table, and the rollup changes in the transaction of the change it counts, so it is as current as the table.
 */

/** Per bucket: the rows of the bucket's own grain (an hour or a day) in the range, of one kind. */
export async function rollupPerBucket(deps: Deps, r: StatsRange, kind: RollupKind): Promise<{ start: number; key: string; n: number }[]> {
  const rows = await deps.db.read
    .selectFrom('stats_rollup')
    .select(['start', 'key', 'n'])
    .where('kind', '=', kind)
    .where('grain', '=', r.size)
    .where('start', '>=', r.from)
    .where('start', '<', r.to)
    .execute();
  return rows.map((row) => ({ start: Number(row.start), key: row.key, n: Number(row.n) }));
}

/**
 * Over the whole range, per key, most first then by key, non-zero only: whole days from the day rows, the
 * hours before the first and after the last whole day from the hour rows. At most 2 × 23 hour rows and one
 * row per day for each key, however many actions the range holds. One kind a query and each part its own
 * branch of a UNION ALL, so every part is one range seek on the primary key: given `kind IN (…)` or an OR of
 * the parts, SQLite's planner chose to read every row of the kinds at 90 days (bench/oversight.ts).
 */
export async function rollupTotals(deps: Deps, r: StatsRange, kind: RollupKind, limit?: number): Promise<{ key: string; n: number }[]> {
  const dayFrom = Math.ceil(r.from / DAY) * DAY;
  const dayTo = Math.floor(r.to / DAY) * DAY;
  const parts: [number, number, number][] =
    dayFrom < dayTo
      ? [
          [HOUR, r.from, dayFrom],
          [DAY, dayFrom, dayTo],
          [HOUR, dayTo, r.to],
        ]
      : [[HOUR, r.from, r.to]];
  const part = ([grain, from, to]: [number, number, number]) =>
    deps.db.read
      .selectFrom('stats_rollup')
      .select(['key', 'n'])
      .where('kind', '=', kind)
      .where('grain', '=', grain)
      .where('start', '>=', from)
      .where('start', '<', to);
  const [first, ...rest] = parts.filter(([, from, to]) => from < to);
  if (!first) return [];
  const union = rest.reduce((u, p) => u.unionAll(part(p)), part(first));
  const total = sql<number | string>`sum(n)`;
  let q = deps.db.read
    .selectFrom(union.as('p'))
    .select(['key', total.as('n')])
    .groupBy('key')
    .having(total, '>', 0)
    .orderBy(total, 'desc')
    .orderBy('key');
  if (limit !== undefined) q = q.limit(limit);
  const rows = await q.execute();
  return rows.map((row) => ({ key: row.key, n: Number(row.n) }));
}
