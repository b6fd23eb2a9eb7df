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

/**
 * When a worker looks at its retries. They change only when a pass records failures or recoveries (`changed`:
 * the next pass looks) or when an admin replays a dead letter (from any process); so a pass looks only when told
 * to (`force`: the backstop timer, tick(), a lease just taken), when the earliest waiting retry comes due, or when
 * it last looked `intervalMs` ago. Under a steady stream of events that is one read a backstop interval instead
 * of one a pass, and a replayed dead letter is still picked up within the backstop interval, as before.
 */
export class RetryWatch {
  /** When to look again (0: at the next pass). */
  private lookAt = 0;
  private nextAt: number | null = null;

  constructor(
    private readonly deps: Deps,
    private readonly name: string,
    private readonly intervalMs: number,
  ) {}

  async due(now: number, limit: number, force: boolean): Promise<DueRetries> {
    if (!force && now < this.lookAt) return { due: [], nextAt: this.nextAt };
    const retries = await dueRetries(this.deps, this.name, now, limit);
    this.nextAt = retries.nextAt;
    this.lookAt = retries.due.length > 0 ? 0 : Math.min(retries.nextAt ?? Number.POSITIVE_INFINITY, now + this.intervalMs);
    return retries;
  }

  /** The retry rows changed (this node recorded a failure or a recovery, or took the lease): look next pass. */
  changed(): void {
    this.lookAt = 0;
  }
}
