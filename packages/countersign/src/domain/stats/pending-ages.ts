import { sql } from 'kysely';
import type { Deps } from '../../deps.js';

const HOUR = 3_600_000;
/** Lower bounds of the age buckets, youngest first. */
export const AGE_BUCKETS = [
  { label: 'under 1 hour', from: 0 },
  { label: '1 to 24 hours', from: HOUR },
  { label: '1 to 7 days', from: 24 * HOUR },
  { label: 'over 7 days', from: 7 * 24 * HOUR },
] as const;

/** Actions pending now, by how long they have waited: one pass over the pending rows (actions_status_id, migration 014). */
export async function pendingAges(deps: Deps, now: number): Promise<{ label: string; count: number }[]> {
  const older = (ms: number) => sql<number | string>`sum(case when created_at <= ${now - ms} then 1 else 0 end)`;
  const row = await deps.db.read
    .selectFrom('actions')
    .select((eb) => [
      eb.fn.countAll<number | string>().as('all'),
      older(AGE_BUCKETS[1].from).as('a1'),
      older(AGE_BUCKETS[2].from).as('a2'),
      older(AGE_BUCKETS[3].from).as('a3'),
    ])
    .where('status', '=', 'pending')
    .executeTakeFirst();
  const atLeast = [Number(row?.all ?? 0), Number(row?.a1 ?? 0), Number(row?.a2 ?? 0), Number(row?.a3 ?? 0)];
  return AGE_BUCKETS.map((b, i) => ({ label: b.label, count: (atLeast[i] as number) - (atLeast[i + 1] ?? 0) }));
}
