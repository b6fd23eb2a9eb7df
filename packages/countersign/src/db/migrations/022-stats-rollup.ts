import type { Kysely } from 'kysely';
import { backfillStatsRollup } from '../stats-rollup/backfill.js';

/**
 * The dashboard's rollup (GET /v1/stats at 1M actions, bench/oversight.ts): counts per hour and per day of
 * actions by status, tool and agent, a time-to-decision histogram, and votes per reviewer. The committer
 * keeps it in the same transaction as the change it counts (db/stats-rollup/tallies.ts), so a dashboard
 * range reads a few thousand small rows instead of every action in it. Migration 014's indexes stay: the
 * back-fill reads them, and the history pages use the others.
 *
 * One row per (kind, grain, start, key); `n` may reach 0 (an hour's pending actions all decided) and stays.
 * A database that already holds actions is back-filled here, inside the migration's transaction.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('stats_rollup')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('grain', 'bigint', (c) => c.notNull())
    .addColumn('start', 'bigint', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('n', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('stats_rollup_pk', ['kind', 'grain', 'start', 'key'])
    .execute();
  await backfillStatsRollup(db);
}
