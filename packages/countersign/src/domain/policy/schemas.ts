import { z } from 'zod';
import { PolicySchema, WorkflowsSchema } from '../../policy/schema.js';
import { freeText } from '../free-text.js';

const Note = freeText().max(1000).optional().meta({ description: 'Why, for the history (at most 1000 characters)' });
/** Version numbers are stored as 32-bit integers: anything larger names no version and is refused as input, not by the database. */
const MAX_VERSION = 2_147_483_647;
const ExpectedVersion = z.number().int().min(0).max(MAX_VERSION).optional().meta({
  description: 'Refuse with 409 unless this version is still active (0: none yet), so a change made meanwhile is not overwritten',
});

export const ApplyPolicyBody = z
  .union([
    z.strictObject({
      document: z
        .string()
        .min(1)
        .max(1024 * 1024)
        .meta({ description: 'YAML (or JSON) text with policy: and workflows: sections' }),
      note: Note,
      expected_version: ExpectedVersion,
    }),
    z.strictObject({
      policy: PolicySchema.optional(),
      workflows: WorkflowsSchema.optional(),
      note: Note,
      expected_version: ExpectedVersion,
    }),
  ])
  .meta({ id: 'ApplyPolicyRequest' });
export type ApplyPolicyBody = z.infer<typeof ApplyPolicyBody>;

export const RollbackPolicyBody = z
  .strictObject({
    version: z
      .number()
      .int()
      .min(1)
      .max(MAX_VERSION)
      .meta({ description: 'The version whose document becomes active again, as a new version' }),
    note: Note,
    expected_version: ExpectedVersion,
  })
  .meta({ id: 'RollbackPolicyRequest' });
export type RollbackPolicyBody = z.infer<typeof RollbackPolicyBody>;

export const PolicyVersionParams = z.strictObject({ version: z.coerce.number().int().min(1).max(MAX_VERSION) });

export const PolicyVersionView = z
  .object({
    version: z.number().int(),
    hash: z.string().meta({ description: 'SHA-256 of the compiled policy; actions record it as policy.hash' }),
    active: z.boolean().meta({ description: 'Whether this is the version every node decides with' }),
    applied_at: z.string(),
    applied_by: z.object({ type: z.string(), id: z.string().nullable(), label: z.string() }),
    trigger: z.enum(['apply', 'rollback', 'start', 'reload']),
    note: z.string().nullable(),
    restored_from: z.number().int().nullable().meta({ description: 'For a rollback: the version whose document it restored' }),
  })
  .meta({ id: 'PolicyVersion' });
export type PolicyVersionView = z.infer<typeof PolicyVersionView>;

export const PolicyDocumentView = PolicyVersionView.extend({
  document: z.string().meta({ description: 'The document as applied (YAML)' }),
}).meta({ id: 'PolicyDocument' });

export const ActivePolicyView = PolicyDocumentView.extend({
  serving: z
    .object({ version: z.number().int().nullable(), hash: z.string() })
    .meta({ description: 'What the node that answered decides with right now (it follows the active version within a second)' }),
}).meta({ id: 'ActivePolicy' });

export const PolicyChange = z
  .object({
    changed: z.boolean().meta({ description: 'false: the document compiles to the active version, nothing was written' }),
    version: PolicyVersionView,
    previous_version: z.number().int().nullable(),
  })
  .meta({ id: 'PolicyChange' });
export type PolicyChange = z.infer<typeof PolicyChange>;
