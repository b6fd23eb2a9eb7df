import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { GENESIS_HASH } from './chain.js';

export const AuditChainStatus = z
  .object({
    length: z.number().int().meta({ description: 'Entries in the chain (the head’s sequence number)' }),
    head_hash: z.string().meta({ description: 'Hash of the newest entry (64 zeros for an empty chain)' }),
    health: z
      .object({
        state: z.enum(['unverified', 'intact', 'tampered']),
        first_bad_seq: z.number().int().nullable(),
        problem: z.string().nullable(),
        at: z.string().nullable().meta({ description: 'When this gateway last learned it (ISO 8601)' }),
      })
      .meta({ description: 'What this gateway’s own periodic verification last found (as /readyz reports it)' }),
  })
  .meta({ id: 'AuditChainStatus' });
export type AuditChainStatus = z.infer<typeof AuditChainStatus>;

/** The chain head as stored, and what the running gateway last found about the chain. */
export async function auditChainStatus(deps: Deps): Promise<AuditChainStatus> {
  const head = await deps.db.read.selectFrom('chain_head').select(['audit_seq', 'audit_hash']).where('id', '=', 1).executeTakeFirst();
  const s = deps.auditHealth.state;
  return {
    length: Number(head?.audit_seq ?? 0),
    head_hash: head?.audit_hash ?? GENESIS_HASH,
    health:
      s.kind === 'unverified'
        ? { state: 'unverified', first_bad_seq: null, problem: null, at: null }
        : s.kind === 'intact'
          ? { state: 'intact', first_bad_seq: null, problem: null, at: new Date(s.at).toISOString() }
          : { state: 'tampered', first_bad_seq: s.seq, problem: s.problem, at: new Date(s.at).toISOString() },
  };
}
