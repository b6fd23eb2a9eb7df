import { type RawBuilder, sql } from 'kysely';

/**
 * Histogram edges (ms) for time to decision: from one second to thirty days, each edge at most 2.5 times the
 * one before (1.5 from a minute on), so a percentile interpolated inside its bin is off by at most the width
 * of that bin. Bounded: an hour's histogram is at most EDGES.length + 1 rollup rows, however many actions it
 * holds. Bin i holds times in [EDGES[i-1], EDGES[i]); the last bin is open. Changing the edges needs a
 * migration that re-runs the back-fill (the rollup stores bin numbers).
 */
export const EDGES: readonly number[] = [
  1, 2, 5, 10, 15, 30, 45, 60, 90, 120, 180, 300, 450, 600, 900, 1200, 1800, 2700, 3600, 5400, 7200, 10800, 14400, 21600, 28800, 43200,
  64800, 86400, 129600, 172800, 259200, 345600, 432000, 604800, 907200, 1209600, 1814400, 2592000,
].map((s) => s * 1000);

/** The bin of a time to decision (ms): what `binSql` computes in the database. */
export function binOf(ms: number): number {
  const i = EDGES.findIndex((e) => ms < e);
  return i === -1 ? EDGES.length : i;
}

/** The bin of `decided_at - created_at` as text (the rollup's key), the same answer as `binOf`. */
export function binSql(): RawBuilder<string> {
  return sql<string>`case ${sql.join(
    EDGES.map((e, i) => sql`when decided_at - created_at < ${sql.lit(e)} then ${sql.lit(String(i))}`),
    sql` `,
  )} else ${sql.lit(String(EDGES.length))} end`;
}
