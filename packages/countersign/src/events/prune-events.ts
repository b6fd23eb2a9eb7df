import type { Deps } from '../deps.js';

/** Rows per delete: one short transaction each, so retention never holds the write path for long. */
export const PRUNE_BATCH = 1000;

/**
 * The highest seq retention may delete: below every consumer's cursor, below every event a consumer is
 * still retrying, and below every dead letter not yet replayed (a replay must find its event). With no
 * consumers registered it is the head. Audit entries are a different table and are never deleted.
 */
export async function retentionFloor(deps: Deps): Promise<number> {
  const db = deps.db.read;
  const head = await db.selectFrom('chain_head').select('event_seq').where('id', '=', 1).executeTakeFirstOrThrow();
  const cursor = await db
    .selectFrom('event_consumers')
    .select((eb) => eb.fn.min('cursor').as('min'))
    .executeTakeFirst();
  const retry = await db
    .selectFrom('event_consumer_retries')
    .select((eb) => eb.fn.min('seq').as('min'))
    .executeTakeFirst();
  const dead = await db
    .selectFrom('event_dead_letters')
    .select((eb) => eb.fn.min('seq').as('min'))
    .where('replayed_at', 'is', null)
    .executeTakeFirst();
  const bounds = [Number(head.event_seq)];
  if (cursor?.min != null) bounds.push(Number(cursor.min));
  if (retry?.min != null) bounds.push(Number(retry.min) - 1);
  if (dead?.min != null) bounds.push(Number(dead.min) - 1);
  return Math.min(...bounds);
}

/**
 * Deletes one batch of events committed before `cutoff` and at or below the retention floor; returns how
 * many went. The floor is read before the transaction: a consumer's cursor only moves forward, and a retry
 * or dead letter is only created for an event at or below a cursor, so nothing the floor protects can
 * come into range while the batch runs — except an admin replay, which the transaction re-checks.
 */
export async function pruneEvents(deps: Deps, cutoff: number): Promise<number> {
  const floor = await retentionFloor(deps);
  return deps.committer.run(async (tx) => {
    const nth = await tx.db
      .selectFrom('events')
      .select('seq')
      .where('seq', '<=', floor)
      .where('ts', '<', cutoff)
      .orderBy('seq')
      .offset(PRUNE_BATCH - 1)
      .limit(1)
      .executeTakeFirst();
    const upTo = nth ? Math.min(Number(nth.seq), floor) : floor;
    const replayed = await tx.db
      .selectFrom('event_consumer_retries')
      .select((eb) => eb.fn.min('seq').as('min'))
      .executeTakeFirst();
    const limit = replayed?.min != null ? Math.min(upTo, Number(replayed.min) - 1) : upTo;
    const res = await tx.db.deleteFrom('events').where('seq', '<=', limit).where('ts', '<', cutoff).executeTakeFirst();
    return Number(res.numDeletedRows);
  });
}
