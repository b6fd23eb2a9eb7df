import type { Tx } from '../../db/committer.js';
import type { Deps } from '../../deps.js';
import { newId } from '../../lib/ids.js';
import { retryDelayMs } from './backoff.js';
import { leaseLost } from './claim.js';

/** A delivery that threw: its first failure, or another failure of an event already being retried. */
export interface Failure {
  seq: number;
  type: string;
  actionId: string | null;
  error: string;
  /** Failed attempts before this one (0 for a first delivery). */
  attemptsBefore: number;
  /** The far side's Retry-After, as a time: the retry comes no earlier (RetryLater). */
  notBefore?: number | null;
}

export interface BatchResult {
  name: string;
  owner: string;
  leaseMs: number;
  maxAttempts: number;
  /** Cursor as claimed, and where it moves (equal when only retries ran). */
  fromCursor: number;
  toCursor: number;
  /** The cursor's event's commit time (lag); undefined keeps the one recorded. */
  toCursorTs: number | null | undefined;
  failures: Failure[];
  /** Retried events that succeeded this time: their retry rows go. */
  recovered: number[];
}

/** What the transaction did, for metrics after commit (a committer op may run twice, so it counts nothing itself). */
export interface Recorded {
  retried: number;
  deadLettered: number;
}

const MAX_ERROR_CHARS = 2000;

/**
 * Moves the cursor past a handled batch and records its failures, in one transaction, compare-and-set
 * on (lease owner, cursor): a node whose lease was taken over while it ran handlers gets a conflict and
 * records nothing; the new holder delivers the batch again (at least once, same idempotency keys).
 * A failure becomes a retry row with the next attempt time; the cursor moves on anyway, so one bad event
 * never holds up the ones after it. After `maxAttempts` the event is dead-lettered, audited.
 */
export async function recordBatch(deps: Deps, r: BatchResult): Promise<Recorded> {
  return deps.committer.run(async (tx) => {
    const moved = await tx.db
      .updateTable('event_consumers')
      .set({
        cursor: r.toCursor,
        ...(r.toCursor !== r.fromCursor && r.toCursorTs !== undefined ? { cursor_ts: r.toCursorTs } : {}),
        lease_expires_at: tx.now + r.leaseMs,
        updated_at: tx.now,
      })
      .where('name', '=', r.name)
      .where('lease_owner', '=', r.owner)
      .where('cursor', '=', r.fromCursor)
      .executeTakeFirst();
    if (Number(moved.numUpdatedRows) !== 1) throw leaseLost(r.name);
    if (r.recovered.length > 0) {
      await tx.db.deleteFrom('event_consumer_retries').where('consumer', '=', r.name).where('seq', 'in', r.recovered).execute();
    }
    let deadLettered = 0;
    for (const f of r.failures) {
      const attempts = f.attemptsBefore + 1;
      const error = f.error.slice(0, MAX_ERROR_CHARS);
      if (attempts >= r.maxAttempts) {
        await deadLetter(tx, r.name, f, attempts, error);
        deadLettered += 1;
      } else {
        await scheduleRetry(tx, r.name, f, attempts, error);
      }
    }
    return { retried: r.failures.length - deadLettered, deadLettered };
  });
}

async function scheduleRetry(tx: Tx, name: string, f: Failure, attempts: number, error: string): Promise<void> {
  // The longer of our back-off and the far side's Retry-After: honoured once, never added to the back-off.
  const next = Math.max(tx.now + retryDelayMs(attempts), f.notBefore ?? 0);
  if (f.attemptsBefore === 0) {
    await tx.db
      .insertInto('event_consumer_retries')
      .values({ consumer: name, seq: f.seq, attempts, next_attempt_at: next, last_error: error, first_failed_at: tx.now })
      .execute();
  } else {
    await tx.db
      .updateTable('event_consumer_retries')
      .set({ attempts, next_attempt_at: next, last_error: error })
      .where('consumer', '=', name)
      .where('seq', '=', f.seq)
      .execute();
  }
}

async function deadLetter(tx: Tx, name: string, f: Failure, attempts: number, error: string): Promise<void> {
  const id = newId();
  await tx.db.deleteFrom('event_consumer_retries').where('consumer', '=', name).where('seq', '=', f.seq).execute();
  await tx.db
    .insertInto('event_dead_letters')
    .values({
      id,
      consumer: name,
      seq: f.seq,
      event_type: f.type,
      attempts,
      last_error: error,
      dead_lettered_at: tx.now,
      replayed_at: null,
      replayed_by: null,
    })
    .execute();
  tx.audit({
    actor: { type: 'system', id: null },
    event: 'event.dead_lettered',
    actionId: f.actionId,
    data: { dead_letter_id: id, consumer: name, seq: f.seq, event_type: f.type, attempts, error },
  });
}
