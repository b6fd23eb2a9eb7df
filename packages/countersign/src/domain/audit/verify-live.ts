import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.js';
import { type AuditVerifyResult, type VerifyAuditOptions, verifyAudit } from './verify-audit.js';

/**
 * verifyAudit reads chain_head after walking the entries. On a database a gateway is appending to, a batch
 * committed during the walk makes the head look longer than the chain it walked: "truncated" at the entry
 * after the walk's end. If that entry exists now, it was committed meanwhile, not removed.
 */
export async function racedACommit(db: Kysely<DB>, r: AuditVerifyResult): Promise<boolean> {
  if (r.firstBad?.kind !== 'truncated' || r.firstBad.seq !== r.headSeq + 1) return false;
  const next = await db
    .selectFrom('audit_log')
    .select('seq')
    .where('seq', '=', r.headSeq + 1)
    .executeTakeFirst();
  return next !== undefined;
}

/**
 * The whole chain verified on a database a running gateway may be writing (`countersign audit verify`):
 * entries committed during the walk are not reported as a truncated tail. The result describes the chain
 * as walked; the newer entries are left to the next verification.
 */
export async function verifyLiveAudit(db: Kysely<DB>, opts: VerifyAuditOptions = {}): Promise<AuditVerifyResult> {
  const r = await verifyAudit(db, opts);
  if (r.ok || !(await racedACommit(db, r))) return r;
  const { firstBad: _raced, ...walked } = r;
  return { ...walked, ok: true };
}
