import type { Kysely } from 'kysely';
import type { StoredEvent } from '../../db/committer.js';
import type { DB, EventsTable } from '../../db/types.js';

// TODO(outbox): switch to events/outbox.ts once it lands (one row parser for the outbox).
function toStored(r: EventsTable): StoredEvent {
  return {
    seq: Number(r.seq),
    ts: Number(r.ts),
    type: r.type,
    actionId: r.action_id,
    agentId: r.agent_id,
    sessionId: r.session_id,
    rootId: r.root_id,
    data: JSON.parse(r.data) as Record<string, unknown>,
  };
}

export interface Page {
  /** The events to deliver (of the consumer's types), in seq order. */
  events: StoredEvent[];
  /** The last seq read (delivered or skipped): where the cursor moves once the page is handled. */
  last: number;
  /** Its commit time, for lag. */
  lastTs: number | null;
  /** Whether the page was full (more may follow at once). */
  full: boolean;
}

/**
 * Up to `limit` events after `after`. Events of other types are passed without parsing their payload, so
 * a consumer of a few types costs little more than reading sequence numbers.
 */
export async function readPage(db: Kysely<DB>, after: number, limit: number, types: ReadonlySet<string> | null): Promise<Page> {
  const rows = await db.selectFrom('events').selectAll().where('seq', '>', after).orderBy('seq').limit(limit).execute();
  const last = rows.at(-1);
  return {
    events: rows.filter((r) => types === null || types.has(r.type)).map(toStored),
    last: last ? Number(last.seq) : after,
    lastTs: last ? Number(last.ts) : null,
    full: rows.length === limit,
  };
}

/** The events with these seqs that are still kept (retention never deletes one owed a retry). */
export async function readBySeq(db: Kysely<DB>, seqs: readonly number[]): Promise<Map<number, StoredEvent>> {
  if (seqs.length === 0) return new Map();
  const rows = await db
    .selectFrom('events')
    .selectAll()
    .where('seq', 'in', [...seqs])
    .execute();
  return new Map(rows.map((r) => [Number(r.seq), toStored(r)]));
}
