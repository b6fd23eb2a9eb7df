import { z } from 'zod';

export const AuditExportView = z
  .object({
    name: z.string(),
    type: z
      .enum(['syslog', 'hec', 'otlp'])
      .nullable()
      .meta({ description: "The sink's type in this node's config; null for a sink it does not configure (a retired one)" }),
    cursor: z.number().int().meta({ description: 'Every audit entry up to this seq was delivered' }),
    cursor_hash: z.string().meta({ description: 'Hash of the entry at the cursor: the next one sent must link to it' }),
    head: z.number().int().meta({ description: 'The newest audit seq' }),
    lag_entries: z.number().int().meta({ description: 'Entries written but not yet delivered' }),
    lag_ms: z.number().int().meta({ description: 'How long the oldest undelivered entry has waited (0 when caught up)' }),
    lease_owner: z.string().nullable().meta({ description: 'The node streaming it now (host:pid:random), null when none' }),
    attempts: z.number().int().meta({ description: 'Failed sends of the next batch since the last delivery' }),
    next_attempt_at: z.string().nullable().meta({ description: 'When the next batch is sent again after a failure' }),
    last_error: z.string().nullable(),
    sent_at: z.string().nullable().meta({ description: 'When a batch was last delivered' }),
  })
  .meta({ id: 'AuditExportSink' });
export type AuditExportView = z.infer<typeof AuditExportView>;
