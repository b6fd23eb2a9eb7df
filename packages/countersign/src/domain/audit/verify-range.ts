import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.js';
import { GENESIS_HASH } from './chain.js';
import { type AuditProblem, ChainVerifier, type TrustedCheckpoint } from './chain-verifier.js';

export interface RangeTask {
  /** First sequence number of the range. */
  from: number;
  /** Last one, inclusive; null: to the end of the log. */
  to: number | null;
  /** Trusted checkpoints, by size (the range uses those inside it). */
  checkpoints: TrustedCheckpoint[];
  page: number;
}

/** Plain data, so a worker thread can send it back. */
export interface RangeResult {
  from: number;
  /** Sequence number and stored prev_hash of the range's first row (genesis for a range starting at 1); null when it is empty. */
  firstSeq: number | null;
  startHash: string | null;
  headSeq: number;
  headHash: string;
  entries: number;
  matched: number;
  latestMatched: TrustedCheckpoint | null;
  problem: AuditProblem | null;
}

/**
 * Replays one stretch of the chain. A range starting after genesis takes its
 * first row's stored prev_hash on trust; the caller checks that it equals the
 * hash the previous range ended on, which is what lets ranges run in parallel.
 */
export async function verifyRange(db: Kysely<DB>, task: RangeTask): Promise<RangeResult> {
  const { from, to, page } = task;
  let q0 = db.selectFrom('audit_log').select(['seq', 'prev_hash']).where('seq', '>=', from);
  if (to !== null) q0 = q0.where('seq', '<=', to);
  const first = await q0.orderBy('seq').limit(1).executeTakeFirst();
  const firstSeq = first ? Number(first.seq) : null;
  const startHash = from === 1 ? GENESIS_HASH : (first?.prev_hash ?? null);
  const inRange = task.checkpoints.filter((c) => c.size >= from && (to === null || c.size <= to));
  const before = task.checkpoints.filter((c) => c.size < from).at(-1);
  const v = new ChainVerifier(inRange, { seq: from - 1, hash: startHash ?? GENESIS_HASH }, before);
  let after = from - 1;
  for (;;) {
    let q = db.selectFrom('audit_log').selectAll().where('seq', '>', after);
    if (to !== null) q = q.where('seq', '<=', to);
    const rows = await q.orderBy('seq').limit(page).execute();
    for (const r of rows) {
      // Both drivers hand back numbers (see connect.ts); Number() only guards an odd one.
      if (typeof r.seq !== 'number' || typeof r.ts !== 'number') {
        r.seq = Number(r.seq);
        r.ts = Number(r.ts);
      }
      if (!v.push(r)) break;
    }
    const last = rows[rows.length - 1];
    if (v.problem || rows.length < page || last === undefined) break;
    after = last.seq;
  }
  // Checkpoints past the range's last entry: the tail is gone (only the last range runs to the end).
  if (to === null) v.finish();
  return {
    from,
    firstSeq,
    startHash,
    headSeq: v.headSeq,
    headHash: v.headHash,
    entries: v.entries,
    matched: v.matched,
    latestMatched: v.latestMatched ?? null,
    problem: v.problem ?? null,
  };
}
