import type { Kysely } from 'kysely';
import { DAY, HOUR } from '../db/stats-rollup/tallies.js';
import type { DB } from '../db/types.js';

/** The age buckets of `countersign_actions_pending{age}`: each from its lower bound up to the next one's. */
export const PENDING_AGE_BUCKETS = [
  { label: 'under_1h', from: 0 },
  { label: '1h_to_4h', from: 1 * HOUR },
  { label: '4h_to_24h', from: 4 * HOUR },
  { label: '1d_to_7d', from: DAY },
  { label: 'over_7d', from: 7 * DAY },
] as const;
export type PendingAgeLabel = (typeof PENDING_AGE_BUCKETS)[number]['label'];

/**
 * Pending actions now, by how long they have waited, read at scrape time from the dashboard's rollup
 * (stats_rollup, migration 022: actions by status and by the hour they were created in, kept in the
 * transaction of every change), never from the actions table: a few dozen hour rows for the last day or
 * two, and one row per older day, however many actions there are. The price is resolution: an action
 * counts by the start of its creation hour (day, when older than a day or two), so it may sit one bucket
 * older than its exact age for up to that hour (day). Alerting on "waiting over 4 hours" needs no better.
 */
export async function pendingByAge(db: Kysely<DB>, now: number): Promise<Map<PendingAgeLabel, number>> {
  // Hour rows from the start of the UTC day that holds "a day ago"; day rows before it. No overlap, no gap.
  const cut = Math.floor((now - DAY) / DAY) * DAY;
  // Two range seeks on the primary key (kind, grain, start, key); an OR of the two reads every status row on SQLite.
  const part = (grain: number, cmp: '>=' | '<') =>
    db
      .selectFrom('stats_rollup')
      .select(['start', 'n'])
      .where('kind', '=', 'status')
      .where('grain', '=', grain)
      .where('start', cmp, cut)
      .where('key', '=', 'pending')
      .execute();
  const rows = [...(await part(HOUR, '>=')), ...(await part(DAY, '<'))];
  const counts = new Map<PendingAgeLabel, number>(PENDING_AGE_BUCKETS.map((b) => [b.label, 0]));
  for (const row of rows) {
    const n = Number(row.n);
    if (n === 0) continue;
    const label = bucketOf(Math.max(0, now - Number(row.start)));
    counts.set(label, (counts.get(label) ?? 0) + n);
  }
  return counts;
}

function bucketOf(age: number): PendingAgeLabel {
  let label: PendingAgeLabel = PENDING_AGE_BUCKETS[0].label;
  for (const b of PENDING_AGE_BUCKETS) if (age >= b.from) label = b.label;
  return label;
}

/**
 * How long the oldest pending action has waited (ms), exact; null when none is pending. One row: ids are
 * UUIDv7 (time-ordered), so the first id of the (status, id) index among pending rows is the oldest proposal.
 */
export async function oldestPendingAge(db: Kysely<DB>, now: number): Promise<number | null> {
  const row = await db.selectFrom('actions').select('created_at').where('status', '=', 'pending').orderBy('id').limit(1).executeTakeFirst();
  return row ? Math.max(0, now - Number(row.created_at)) : null;
}
