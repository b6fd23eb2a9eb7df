import { type Kysely, sql } from 'kysely';
import { binSql } from './histogram.js';
import { DAY, HOUR, ROLLUP_KINDS } from './tallies.js';

/**
 * Rebuilds the dashboard rollup (stats_rollup) from the actions and reviews tables, a window of whole days at
 * a time: each window's rows are deleted and computed again from the actions and reviews created in it (migration
 * 014's covering indexes served this until 027 dropped them, after 022 had run it), the hour rows by GROUP BY
 * and the day rows from the hour rows. Idempotent (running it
 * again changes nothing) and exact: it counts what the committer's tallies count (domain/stats/tallies.ts).
 *
 * Migration 022 runs it inside the migration's transaction for a database that already holds actions; the
 * benchmark's seeder, which writes rows straight into the tables, runs it after seeding. The caller chooses
 * the transaction; nothing may write actions meanwhile (the migration holds the write lock).
 */
export async function backfillStatsRollup(
  // biome-ignore lint/suspicious/noExplicitAny: migrations call it before the typed schema exists
  db: Kysely<any>,
  opts: { windowDays?: number; log?: (s: string) => void } = {},
): Promise<{ windows: number }> {
  const span = (opts.windowDays ?? 7) * DAY;
  const bounds = await sql<{ lo: number | string | null; hi: number | string | null }>`
    select min(lo) as lo, max(hi) as hi from (
      select min(created_at) as lo, max(created_at) as hi from actions
      union all select min(created_at) as lo, max(created_at) as hi from reviews
    ) t`.execute(db);
  const b = bounds.rows[0];
  if (!b || b.lo === null || b.hi === null) return { windows: 0 };
  const first = Number(b.lo) - (Number(b.lo) % DAY);
  const last = Number(b.hi);
  let windows = 0;
  for (let from = first; from <= last; from += span) {
    await backfillWindow(db, from, from + span);
    windows += 1;
    if (windows % 10 === 0) opts.log?.(`  rollup back-filled to ${new Date(from + span).toISOString().slice(0, 10)}`);
  }
  return { windows };
}

// biome-ignore lint/suspicious/noExplicitAny: see backfillStatsRollup
async function backfillWindow(db: Kysely<any>, from: number, to: number): Promise<void> {
  const kinds = sql.join(ROLLUP_KINDS.map((k) => sql.lit(k)));
  await sql`delete from stats_rollup where kind in (${kinds}) and grain in (${sql.lit(HOUR)}, ${sql.lit(DAY)})
    and start >= ${from} and start < ${to}`.execute(db);
  // Literal grains and kinds (numbers and names this code chose): PostgreSQL needs the select and the GROUP BY
  // to be the same expression, which a bound parameter in each is not.
  const hour = sql`created_at - created_at % ${sql.lit(HOUR)}`;
  const fromActions = (kind: string, key: ReturnType<typeof sql>, where = sql`true`) =>
    sql`insert into stats_rollup (kind, grain, start, key, n)
      select ${sql.lit(kind)}, ${sql.lit(HOUR)}, ${hour}, ${key}, count(*) from actions
      where created_at >= ${from} and created_at < ${to} and ${where}
      group by ${hour}, ${key}`.execute(db);
  await fromActions('status', sql`status`);
  await fromActions('tool', sql`tool`);
  await fromActions('agent', sql`agent_name`);
  await fromActions('decision_time', binSql(), sql`decided_by_type = 'user' and decided_at is not null`);
  // Any vote but a deny approves (as domain/stats/tallies.ts counts it).
  for (const [kind, which] of [
    ['vote_deny', sql`decision = 'deny'`],
    ['vote_approve', sql`decision <> 'deny'`],
  ] as const) {
    await sql`insert into stats_rollup (kind, grain, start, key, n)
      select ${sql.lit(kind)}, ${sql.lit(HOUR)}, ${hour}, reviewer_email, count(*) from reviews
      where created_at >= ${from} and created_at < ${to} and ${which}
      group by ${hour}, reviewer_email`.execute(db);
  }
  const day = sql`start - start % ${sql.lit(DAY)}`;
  await sql`insert into stats_rollup (kind, grain, start, key, n)
    select kind, ${sql.lit(DAY)}, ${day}, key, sum(n) from stats_rollup
    where kind in (${kinds}) and grain = ${sql.lit(HOUR)} and start >= ${from} and start < ${to}
    group by kind, ${day}, key`.execute(db);
}
