import type { Kysely } from 'kysely';
import type { DB } from '../db/types.js';
import { auditEntryHash } from '../domain/audit/chain.js';
import { toAuditEntryView } from '../domain/audit/schemas.js';
import type { ExportEntry } from './types.js';

/** A batch to send: the entries that verify, and why the one after them does not (null when all do). */
export interface Batch {
  entries: ExportEntry[];
  broken: string | null;
}

/**
 * Up to `limit` audit entries after `after`, in sequence order, each checked to follow the one before it
 * (`afterHash` for the first): contiguous, linked, and hashing to its stored hash. A SIEM is where people look
 * when they no longer trust the database, so an entry that does not verify is never sent: the batch stops
 * before it, and the sink stops at it (retrying, visible in its status and metrics) until the chain is whole.
 */
export async function readEntries(db: Kysely<DB>, after: number, afterHash: string, limit: number): Promise<Batch> {
  const rows = await db.selectFrom('audit_log').selectAll().where('seq', '>', after).orderBy('seq').limit(limit).execute();
  let seq = after;
  let prev = afterHash;
  const entries: ExportEntry[] = [];
  for (const r of rows) {
    const at = Number(r.seq);
    if (at !== seq + 1) return { entries, broken: `audit chain broken: entry ${seq + 1} is missing (the next is ${at}); not sent` };
    const fields = {
      seq: at,
      ts: Number(r.ts),
      actor_type: r.actor_type,
      actor_id: r.actor_id,
      event: r.event,
      action_id: r.action_id,
      data: r.data,
    };
    if (r.prev_hash !== prev || auditEntryHash(prev, fields) !== r.hash) {
      return { entries, broken: `audit chain broken at entry ${at}: it does not verify against entry ${seq}; not sent` };
    }
    entries.push(toAuditEntryView(r));
    seq = at;
    prev = r.hash;
  }
  return { entries, broken: null };
}

/** The newest audit seq and the commit time of the first entry after `after` (null when caught up), for lag. */
export async function exportLag(db: Kysely<DB>, after: number): Promise<{ head: number; oldestTs: number | null }> {
  const head = Number((await db.selectFrom('chain_head').select('audit_seq').where('id', '=', 1).executeTakeFirstOrThrow()).audit_seq);
  if (head <= after) return { head, oldestTs: null };
  const next = await db.selectFrom('audit_log').select('ts').where('seq', '>', after).orderBy('seq').limit(1).executeTakeFirst();
  return { head, oldestTs: next ? Number(next.ts) : null };
}
