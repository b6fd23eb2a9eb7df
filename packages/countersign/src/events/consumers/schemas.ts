import { z } from 'zod';

export const ConsumerView = z
  .object({
    name: z.string(),
    cursor: z.number().int().meta({ description: 'Every event up to this sequence number was handled (or is retried / dead-lettered)' }),
    head: z.number().int().meta({ description: 'The newest event sequence number' }),
    lag_events: z.number().int().meta({ description: 'Events after the cursor' }),
    lag_ms: z.number().int().meta({ description: 'How long the oldest unhandled event has waited (0 when caught up)' }),
    lease_owner: z.string().nullable().meta({ description: 'The node running it now (host:pid:random), null when none' }),
    lease_expires_at: z.string().nullable(),
    retrying: z.number().int().meta({ description: 'Events waiting for another attempt' }),
    dead_letters: z.number().int().meta({ description: 'Dead letters not yet replayed' }),
    updated_at: z.string(),
  })
  .meta({ id: 'EventConsumer' });
export type ConsumerView = z.infer<typeof ConsumerView>;

export const DeadLetterView = z
  .object({
    id: z.string(),
    consumer: z.string(),
    seq: z.number().int().meta({ description: 'The event (GET /v1/events?after=seq-1 shows it while it is kept)' }),
    event_type: z.string(),
    attempts: z.number().int(),
    last_error: z.string(),
    dead_lettered_at: z.string(),
    replayed_at: z.string().nullable(),
    replayed_by: z.string().nullable(),
  })
  .meta({ id: 'DeadLetter' });
export type DeadLetterView = z.infer<typeof DeadLetterView>;

export const DeadLetterList = z.object({ items: z.array(DeadLetterView), next_cursor: z.string().nullable() });

export const ListDeadLettersQuery = z.strictObject({
  consumer: z.string().max(64).optional(),
  /** Also list entries already replayed. */
  all: z.enum(['true', 'false']).optional(),
  cursor: z.string().max(64).optional(),
  limit: z
    .string()
    .regex(/^\d{1,4}$/)
    .optional(),
});

export const DeadLetterIdParams = z.strictObject({ id: z.string().max(64) });
