import type { Deps } from '../../deps.js';

export interface DueRetries {
  due: { seq: number; attempts: number }[];
  /** When the earliest not-yet-due retry comes due (null: none waiting). */
  nextAt: number | null;
}

/** Retries of this consumer whose time has come, oldest first, and when the next one will. */
export async function dueRetries(deps: Deps, name: string, now: number, limit: number): Promise<DueRetries> {
  const rows = await deps.db.read
    .selectFrom('event_consumer_retries')
    .select(['seq', 'attempts', 'next_attempt_at'])
    .where('consumer', '=', name)
    .orderBy('next_attempt_at')
    .orderBy('seq')
    .limit(limit + 1)
    .execute();
  const due = rows.filter((r) => Number(r.next_attempt_at) <= now).slice(0, limit);
  const waiting = rows.find((r) => Number(r.next_attempt_at) > now);
  return {
    due: due.map((r) => ({ seq: Number(r.seq), attempts: Number(r.attempts) })),
    nextAt: waiting ? Number(waiting.next_attempt_at) : null,
  };
}
