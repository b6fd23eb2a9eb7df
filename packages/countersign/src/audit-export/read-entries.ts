import type { Kysely } from 'kysely';
import type { DB } from '../db/types.js';
import { auditEntryHash } from '../domain/audit/chain.js';
import { toAuditEntryView } from '../domain/audit/schemas.js';
import type { ExportEntry } from './types.js';

/**
 * Up to `limit` audit entries after `after`, in sequence order, each checked to follow the one before it
 * (`afterHash` for the first): contiguous, linked, and hashing to its stored hash. A SIEM is where people look
 * when they no longer trust the database, so an entry that does not verify is never sent; the sink stops at
 * it (retrying, visible in its status and metrics) until the chain is repaired or the sink is reset.
 */
export async function readEntries(db: Kysely<DB>, after: number, afterHash: string, limit: number): Promise<ExportEntry[]> {
  const rows = await db.selectFrom('audit_log').selectAll().where('seq', '>', after).orderBy('seq').limit(limit).execute();
  let seq = after;
  let prev = afterHash;
  for (const r of rows) {
    const at = Number(r.seq);
    if (at !== seq + 1) throw new Error(`audit chain broken: entry ${seq + 1} is missing (next is ${at}); not sent`);
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
      throw new Error(`audit chain broken at entry ${at}: it does not verify against entry ${seq}; not sent`);
    }
    seq = at;
    prev = r.hash;
  }
  return rows.map(toAuditEntryView);
}

/** The newest audit seq and the commit time of the first entry after `after` (null when caught up), for lag. */
export async function exportLag(db: Kysely<DB>, after: number): Promise<{ head: number; oldestTs: number | null }> {
  const head = Number((await db.selectFrom('chain_head').select('audit_seq').where('id', '=', 1).executeTakeFirstOrThrow()).audit_seq);
  if (head <= after) return { head, oldestTs: null };
  const next = await db.selectFrom('audit_log').select('ts').where('seq', '>', after).orderBy('seq').limit(1).executeTakeFirst();
  return { head, oldestTs: next ? Number(next.ts) : null };
}
