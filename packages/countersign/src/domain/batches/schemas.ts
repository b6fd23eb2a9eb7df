import { z } from 'zod';
import { ActionView, ProposeActionBody } from '../actions/schemas.js';
import { freeText } from '../free-text.js';

export const MAX_BATCH = 100;

export const ProposeBatchBody = z
  .strictObject({ actions: z.array(ProposeActionBody).min(1).max(MAX_BATCH) })
  .meta({ id: 'ProposeBatch', description: 'Parallel tool calls: each is decided and reviewed on its own' });

export const BatchView = z
  .object({
    batch_id: z.string(),
    decided: z.boolean().meta({ description: 'Every action in the batch has its answer' }),
    actions: z.array(ActionView),
  })
  .meta({ id: 'Batch' });
export type BatchView = z.infer<typeof BatchView>;

export const BatchReviewBody = z
  .strictObject({
    decision: z.enum(['approve', 'deny']),
    reason: freeText().max(65536).optional(),
    /** Only these actions of the batch; default every pending one. */
    ids: z.array(z.uuid()).min(1).max(MAX_BATCH).optional(),
    for: z.string().min(1).max(320).optional().meta({
      description: 'Vote for this person (email or user id) under a delegation of theirs you hold, on every targeted action',
    }),
  })
  .meta({ id: 'BatchReview' });

export const BatchReviewResult = z
  .object({
    batch_id: z.string(),
    results: z.array(
      z.object({
        id: z.string(),
        ok: z.boolean(),
        action: ActionView.optional(),
        error: z.object({ code: z.string(), message: z.string() }).optional(),
      }),
    ),
  })
  .meta({ id: 'BatchReviewResult' });
export type BatchReviewResult = z.infer<typeof BatchReviewResult>;
