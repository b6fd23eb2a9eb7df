import { z } from 'zod';
import type { AuditLogTable } from '../../db/types.js';

const filterText = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[^\p{Cc}]*$/u, 'must not contain control characters');

export const ListAuditQuery = z.strictObject({
  action: filterText(64).optional().meta({ description: 'Entries about this action id' }),
  actor: filterText(320).optional().meta({
    description: 'Entries by this actor: a user or agent id, a person’s email, an agent’s name, or an admin actor such as cli:alice',
  }),
  event: filterText(128).optional().meta({ description: 'Entries of this event type, e.g. action.approved' }),
  cursor: z
    .string()
    .regex(/^\d{1,15}$/, 'cursor must be the next_cursor of the previous page')
    .optional(),
  limit: z
    .string()
    .regex(/^\d{1,4}$/, 'limit must be a whole number')
    .optional()
    .meta({ description: 'Entries per page, 1 to 1000 (default 100)' }),
});

export const AuditEntryView = z
  .object({
    seq: z.number().int(),
    ts: z.number().int().meta({ description: 'Epoch milliseconds (hashed)' }),
    time: z.string().meta({ description: 'ts as ISO 8601 (not hashed)' }),
    actor_type: z.string(),
    actor_id: z.string().nullable(),
    event: z.string(),
    action_id: z.string().nullable(),
    data: z.record(z.string(), z.unknown()),
    prev_hash: z.string(),
    hash: z.string(),
  })
  .meta({ id: 'AuditEntry' });
export type AuditEntryView = z.infer<typeof AuditEntryView>;

export const AuditList = z
  .object({
    items: z.array(AuditEntryView),
    next_cursor: z.string().nullable().meta({ description: 'Pass as cursor for the next page; null on the last page' }),
  })
  .meta({ id: 'AuditList' });

export const CheckpointView = z
  .object({
    origin: z.string(),
    size: z.number().int().meta({ description: 'Entries covered: the chain up to and including this seq' }),
    head_hash: z.string().meta({ description: 'Hash of entry `size` (hex)' }),
    kid: z.string().meta({ description: 'JWKS key id of the signing key' }),
    created_at: z.string(),
    note: z.string().meta({ description: 'The signed note (c2sp.org/tlog-checkpoint); what offline verification checks' }),
  })
  .meta({ id: 'AuditCheckpoint' });
export type CheckpointView = z.infer<typeof CheckpointView>;

/** One stored entry as the API and `audit export` show it: the hashed fields, the hashes, and a readable time. */
export function toAuditEntryView(r: AuditLogTable): AuditEntryView {
  const ts = Number(r.ts);
  return {
    seq: Number(r.seq),
    ts,
    time: new Date(ts).toISOString(),
    actor_type: r.actor_type,
    actor_id: r.actor_id,
    event: r.event,
    action_id: r.action_id,
    data: JSON.parse(r.data) as Record<string, unknown>,
    prev_hash: r.prev_hash,
    hash: r.hash,
  };
}
