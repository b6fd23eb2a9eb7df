import type { Kysely } from 'kysely';
import type { DB } from '../db/types.js';
import type { Principal } from '../domain/identities/principal.js';
import { decodeRows } from './decode-rows.js';
import type { StoredEvent } from './types.js';

export { decodeRows };

/**
 * The outbox: the `events` table, written by the Committer in the same transaction as the state
 * change, numbered in commit order under the chain head lock, so a reader that has seen seq N has
 * seen everything before it. Every reader goes through here: SSE replay, long-poll, the cross-node
 * feed and durable consumers.
 */

/** Which events a reader follows; every part is optional and they combine. */
export interface OutboxFilter {
  actionId?: string;
  agentId?: string;
  sessionId?: string;
  /** An action and its descendants: how a top-level run follows its subagents' approvals. */
  rootId?: string;
}

/** Whether a reader may see an event (an agent sees only its own) and it passes the filter. */
export function visible(e: StoredEvent, principal: Principal, f: OutboxFilter): boolean {
  if (principal.type === 'agent' && e.agentId !== principal.id) return false;
  return matches(e, f);
}

export function matches(e: StoredEvent, f: OutboxFilter): boolean {
  if (f.actionId !== undefined && e.actionId !== f.actionId) return false;
  if (f.agentId !== undefined && e.agentId !== f.agentId) return false;
  if (f.sessionId !== undefined && e.sessionId !== f.sessionId) return false;
  if (f.rootId !== undefined && e.rootId !== f.rootId && e.actionId !== f.rootId) return false;
  return true;
}

/** Up to `limit` events after `after`, in order. Rows of a type this version does not know are skipped. */
export async function readAfter(db: Kysely<DB>, after: number, f: OutboxFilter = {}, limit = 500): Promise<StoredEvent[]> {
  let q = db.selectFrom('events').selectAll().where('seq', '>', after);
  if (f.actionId !== undefined) q = q.where('action_id', '=', f.actionId);
  if (f.agentId !== undefined) q = q.where('agent_id', '=', f.agentId);
  if (f.sessionId !== undefined) q = q.where('session_id', '=', f.sessionId);
  if (f.rootId !== undefined) {
    const root = f.rootId;
    q = q.where((eb) => eb.or([eb('root_id', '=', root), eb('action_id', '=', root)]));
  }
  return decodeRows(db, await q.orderBy('seq').limit(limit).execute());
}

/**
 * The feed's read (events/feed.ts): up to `limit` events after `after`, each stamped with the identity epoch read
 * in the same statement (StoredEvent.epoch). One statement reads one snapshot, so every event it returns had
 * committed before it, and so had every identity change committed before any of them: the epoch counts them all,
 * and this gateway's held requests verified at it may have the events with no read of their own.
 */
export async function readAfterWithEpoch(db: Kysely<DB>, after: number, limit: number): Promise<StoredEvent[]> {
  const rows = await db
    .selectFrom('events')
    .selectAll('events')
    .select((eb) => eb.selectFrom('identity_epoch').select('epoch').where('id', '=', 1).as('identity_epoch'))
    .where('seq', '>', after)
    .orderBy('seq')
    .limit(limit)
    .execute();
  const events = await decodeRows(db, rows);
  // PostgreSQL returns bigint as a string; a missing row reads as 0, as readIdentityEpoch reads it.
  const epoch = Number(rows[0]?.identity_epoch ?? 0);
  for (const e of events) e.epoch = epoch;
  return events;
}

/** Every event after `after`, a page at a time (a stream checks each page before it sends it). */
export async function* pagesAfter(db: Kysely<DB>, after: number, f: OutboxFilter = {}, pageSize = 500): AsyncGenerator<StoredEvent[]> {
  let cursor = after;
  for (;;) {
    const page = await readAfter(db, cursor, f, pageSize);
    if (page.length === 0) return;
    yield page;
    cursor = (page.at(-1) as StoredEvent).seq;
    if (page.length < pageSize) return;
  }
}

/** The last event committed (0 before the first). */
export async function headSeq(db: Kysely<DB>): Promise<number> {
  const head = await db.selectFrom('chain_head').select('event_seq').where('id', '=', 1).executeTakeFirstOrThrow();
  return Number(head.event_seq);
}

/**
 * The highest seq that may be gone (retention deletes old events): a reader resuming after an id
 * below this has missed events it can no longer get. 0 while nothing has been deleted.
 */
export async function floorSeq(db: Kysely<DB>): Promise<number> {
  const oldest = await db
    .selectFrom('events')
    .select((eb) => eb.fn.min('seq').as('min'))
    .executeTakeFirst();
  if (oldest?.min != null) return Number(oldest.min) - 1;
  return headSeq(db);
}
