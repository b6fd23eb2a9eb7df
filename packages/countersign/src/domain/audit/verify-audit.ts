import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.js';
import { auditEntryHash, GENESIS_HASH } from './chain.js';

export interface AuditVerifyResult {
  ok: boolean;
  entries: number;
  headSeq: number;
  headHash: string;
  /** The first entry that does not verify, and why. */
  firstBad?: { seq: number; problem: string };
}

const PAGE = 5000;

/**
 * Walks the chain from genesis: sequence numbers must be contiguous, each
 * entry must name its predecessor's hash, and its own hash must recompute.
 * The head recorded in chain_head must match the last entry (catches a
 * truncated tail).
 */
export async function verifyAudit(db: Kysely<DB>): Promise<AuditVerifyResult> {
  let prev = GENESIS_HASH;
  let expected = 1;
  let entries = 0;
  for (;;) {
    const rows = await db.selectFrom('audit_log').selectAll().where('seq', '>=', expected).orderBy('seq').limit(PAGE).execute();
    for (const r of rows) {
      const seq = Number(r.seq);
      const bad = (problem: string): AuditVerifyResult => ({
        ok: false,
        entries,
        headSeq: expected - 1,
        headHash: prev,
        firstBad: { seq, problem },
      });
      if (seq !== expected)
        return {
          ...bad(`entries ${expected}..${seq - 1} are missing`),
          firstBad: { seq: expected, problem: `entry ${expected} is missing (next present is ${seq})` },
        };
      if (r.prev_hash !== prev) return bad('prev_hash does not match the previous entry (entries reordered or replaced)');
      const hash = auditEntryHash(prev, { ...r, seq, ts: Number(r.ts) });
      if (hash !== r.hash) return bad('contents do not match the entry hash (entry was edited)');
      prev = r.hash;
      expected += 1;
      entries += 1;
    }
    if (rows.length < PAGE) break;
  }
  const head = await db.selectFrom('chain_head').selectAll().where('id', '=', 1).executeTakeFirst();
  if (head && (Number(head.audit_seq) !== entries || head.audit_hash !== prev)) {
    return {
      ok: false,
      entries,
      headSeq: entries,
      headHash: prev,
      firstBad: {
        seq: entries + 1,
        problem: `the chain head records ${head.audit_seq} entries but only ${entries} verify (tail truncated)`,
      },
    };
  }
  return { ok: true, entries, headSeq: entries, headHash: prev };
}
