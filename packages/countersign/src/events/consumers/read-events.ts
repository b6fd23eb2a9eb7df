import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.js';
import { decodeRows } from '../outbox.js';
import type { StoredEvent } from '../types.js';

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
 * Up to `limit` outbox rows after `after`. Rows of other types are passed without parsing their payload,
 * so a consumer of a few types costs little more than reading sequence numbers; the page still reports
 * the last seq read, so the cursor moves past the skipped rows too (outbox.readAfter drops them silently,
 * which would leave a consumer re-reading a page of events it does not want).
 */
export async function readPage(db: Kysely<DB>, after: number, limit: number, types: ReadonlySet<string> | null): Promise<Page> {
  const rows = await db.selectFrom('events').selectAll().where('seq', '>', after).orderBy('seq').limit(limit).execute();
  const last = rows.at(-1);
  // Every row goes in (an event may take its action from the next one); only the consumer's types come out.
  const events = await decodeRows(db, rows, types === null ? undefined : (r) => types.has(r.type));
  return { events, last: last ? Number(last.seq) : after, lastTs: last ? Number(last.ts) : null, full: rows.length === limit };
}

/** The events with these seqs that are still kept (retention never deletes one owed a retry). */
export async function readBySeq(db: Kysely<DB>, seqs: readonly number[]): Promise<Map<number, StoredEvent>> {
  const out = new Map<number, StoredEvent>();
  if (seqs.length === 0) return out;
  const rows = await db
    .selectFrom('events')
    .selectAll()
    .where('seq', 'in', [...seqs])
    .execute();
  for (const e of await decodeRows(db, rows)) out.set(e.seq, e);
  return out;
}
