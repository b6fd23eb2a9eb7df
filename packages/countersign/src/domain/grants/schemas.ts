import { z } from 'zod';
import { Duration } from '../../policy/schema.js';
import { freeText } from '../free-text.js';

// Not imported from actions/schemas: that module imports this one.
const JsonObject = z.record(z.string(), z.unknown());

/** "Approve, and allow similar ones": sent with an approval. */
export const GrantRequest = z
  .strictObject({
    scope: z
      .enum(['agent', 'session'])
      .default('agent')
      .meta({ description: 'Future actions of the same agent, or only of the same session' }),
    expires_in: Duration.optional().meta({ description: 'How long the grant lives (e.g. "30m"); capped by grants.max_duration' }),
    max_uses: z.number().int().min(1).optional().meta({ description: 'How many actions it may approve; capped by grants.max_uses' }),
    match: z
      .union([
        z.strictObject({ arguments: JsonObject.meta({ description: 'These argument values, exactly (other arguments are free)' }) }),
        z.strictObject({ when: z.string().min(1).max(4096).meta({ description: 'A CEL condition over the action' }) }),
      ])
      .optional()
      .meta({ description: 'Which arguments qualify; default: exactly the arguments just approved' }),
  })
  .meta({ id: 'GrantRequest' });
export type GrantRequest = z.infer<typeof GrantRequest>;

export const GrantView = z
  .object({
    id: z.string(),
    agent_id: z.string(),
    session_id: z.string().nullable(),
    tool: z.string(),
    match: z.union([z.object({ arguments: JsonObject }), z.object({ when: z.string() })]),
    created_by: z.object({ id: z.string(), email: z.string() }),
    source_action_id: z.string(),
    created_at: z.string(),
    expires_at: z.string(),
    max_uses: z.number().int().nullable(),
    uses: z.number().int(),
    revoked_at: z.string().nullable(),
    revoked_by: z.string().nullable(),
    active: z.boolean(),
  })
  .meta({ id: 'Grant' });
export type GrantView = z.infer<typeof GrantView>;

export const ListGrantsQuery = z.strictObject({
  agent: z.string().max(256).optional(),
  active: z.enum(['true', 'false']).optional(),
});

export const GrantIdParams = z.strictObject({ id: z.string().max(64) });
export const RevokeGrantBody = z.strictObject({ reason: freeText().max(4096).optional() }).meta({ id: 'RevokeGrant' });
