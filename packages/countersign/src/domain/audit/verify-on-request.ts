import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { verifyAudit } from './verify-audit.js';
import { racedACommit } from './verify-live.js';

export const AuditVerification = z
  .object({
    ok: z.boolean().meta({ description: 'True when every entry, the chain head and every stored checkpoint verify' }),
    entries: z.number().int().meta({ description: 'Entries that verified (before the first bad one, if any)' }),
    head_seq: z.number().int(),
    head_hash: z.string(),
    checkpoints_matched: z.number().int().meta({ description: 'Signed checkpoints the chain matched' }),
    latest_checkpoint: z.object({ size: z.number().int(), head_hash: z.string(), kid: z.string() }).nullable(),
    first_bad: z
      .object({ seq: z.number().int(), kind: z.string(), problem: z.string() })
      .nullable()
      .meta({ description: 'The first entry that does not verify, by sequence number' }),
    verified_at: z.string().meta({ description: 'When this verification finished (ISO 8601)' }),
  })
  .meta({ id: 'AuditVerification' });
export type AuditVerification = z.infer<typeof AuditVerification>;

/** One verification per gateway at a time: a second request while one runs gets the same answer. */
const inFlight = new WeakMap<Deps, Promise<AuditVerification>>();

/**
 * Verifies the whole chain on request (POST /v1/audit/verify), with the same verifier as `countersign audit
 * verify` and the gateway's own periodic watch. It runs on this thread, page by page (2,000 entries a query,
 * hashed between awaits), so the event loop is never held for longer than one page's hashing; concurrent
 * requests share one run. The result is reported, not recorded: the periodic watch owns the readiness alarm.
 */
export function verifyOnRequest(deps: Deps): Promise<AuditVerification> {
  let run = inFlight.get(deps);
  if (!run) {
    run = verify(deps).finally(() => inFlight.delete(deps));
    inFlight.set(deps, run);
  }
  return run;
}

async function verify(deps: Deps): Promise<AuditVerification> {
  const r = await verifyAudit(deps.db.read);
  const ok = r.ok || (await racedACommit(deps.db.read, r));
  return {
    ok,
    entries: r.entries,
    head_seq: r.headSeq,
    head_hash: r.headHash,
    checkpoints_matched: r.checkpoints.matched,
    latest_checkpoint: r.checkpoints.latest
      ? { size: r.checkpoints.latest.size, head_hash: r.checkpoints.latest.headHash, kid: r.checkpoints.latest.kid }
      : null,
    first_bad: ok || !r.firstBad ? null : { seq: r.firstBad.seq, kind: r.firstBad.kind, problem: r.firstBad.problem },
    verified_at: new Date(deps.clock.now()).toISOString(),
  };
}
