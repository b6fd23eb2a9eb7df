import { z } from 'zod';
import { freeText } from '../free-text.js';
import { GrantRequest } from '../grants/schemas.js';
import { ACTION_STATUSES } from './status.js';

/**
 * The HTTP contract. These schemas validate requests, type the handlers and
 * generate /openapi.json; nothing else describes the wire format.
 */
const printable = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[^\p{Cc}]*$/u, 'must not contain control characters');

const text = freeText;

export const JsonObject = z.record(z.string(), z.unknown()).meta({ description: 'Any JSON object' });

export const Annotations = z
  .looseObject({
    title: z.string().max(1024).optional(),
    readOnlyHint: z.boolean().optional(),
    destructiveHint: z.boolean().optional(),
    idempotentHint: z.boolean().optional(),
    openWorldHint: z.boolean().optional(),
  })
  .meta({ description: 'MCP-style tool annotations. Hints from the agent; never trusted for authority.' });

export const ProposeActionBody = z
  .strictObject({
    tool: printable(256).meta({ description: 'Name of the tool the agent wants to run' }),
    arguments: JsonObject,
    resource: printable(2048).optional(),
    purpose: text().max(4096).optional(),
    on_behalf_of: z.email().max(320).optional(),
    session_id: printable(256).optional(),
    parent_id: z.uuid().optional(),
    annotations: Annotations.optional(),
    metadata: JsonObject.optional(),
  })
  .meta({ id: 'ProposeAction' });
export type ProposeActionBody = z.infer<typeof ProposeActionBody>;

export const ProposeActionQuery = z.strictObject({
  redeem: z.enum(['true', 'false']).optional().meta({
    description: 'true: if the policy (or a standing grant) approves the action at once, redeem its receipt in the same transaction',
  }),
});

export const ReviewBody = z
  .strictObject({
    decision: z.enum(['approve', 'deny']),
    reason: text().optional(),
    arguments: JsonObject.optional().meta({ description: 'Edited arguments; present means edit-and-approve' }),
    grant: GrantRequest.optional().meta({ description: 'With an approval: also approve similar future actions, within bounds' }),
    for: z.string().min(1).max(320).optional().meta({
      description: 'Vote for this person (email or user id) under a delegation of theirs you hold; the vote counts as theirs',
    }),
  })
  .meta({ id: 'Review' });
export type ReviewBody = z.infer<typeof ReviewBody>;

export const CancelBody = z.strictObject({ reason: text().optional() }).meta({ id: 'Cancel' });
export type CancelBody = z.infer<typeof CancelBody>;

export const ResultBody = z
  .strictObject({
    outcome: z.enum(['succeeded', 'failed']),
    output: z.unknown().optional(),
  })
  .meta({ id: 'Result' });
export type ResultBody = z.infer<typeof ResultBody>;

export const ActionStatusSchema = z.enum(ACTION_STATUSES);

export const Party = z
  .object({
    type: z.enum(['user', 'agent', 'policy', 'grant', 'system']),
    id: z.string().nullable(),
    label: z.string().nullable(),
  })
  .meta({ id: 'Party' });

export const ReviewView = z
  .object({
    id: z.string(),
    reviewer: z.object({ id: z.string(), email: z.string() }).meta({ description: 'Who voted' }),
    for: z
      .object({ id: z.string(), email: z.string() })
      .nullable()
      .meta({ description: 'Whose vote it is, when the reviewer voted as their delegate ("reviewer for …"); null: their own' }),
    delegation_id: z.string().nullable().meta({ description: 'The delegation the vote was cast under' }),
    decision: z.enum(['approve', 'deny']),
    reason: z.string().nullable(),
    edited: z.boolean(),
    channel: z.string(),
    stage: z.number().int().nullable(),
    at: z.string(),
  })
  .meta({ id: 'ReviewRecord' });

export const ApproversView = z.object({
  users: z.array(z.string()),
  groups: z.array(z.string()),
  roles: z.array(z.string()),
  owner: z.boolean().meta({ description: "The proposing agent's owner may vote" }),
});

export const WorkflowProgress = z
  .object({
    name: z.string(),
    stage: z.object({
      index: z.number().int(),
      name: z.string(),
      of: z.number().int().meta({ description: 'Number of stages in the workflow' }),
      quorum: z.number().int(),
      approvals: z.array(z.string()).meta({ description: 'Who has approved in this stage' }),
      still_needed: z.number().int().meta({ description: 'Approvals still needed in this stage' }),
      approvers: ApproversView.meta({ description: 'Who may vote now (escalations included)' }),
      escalations: z.number().int(),
      timeout_at: z.string().nullable(),
      step_up: z
        .object({ max_age_ms: z.number().int().meta({ description: 'How recent the strong sign-in must be, in ms' }) })
        .nullable()
        .meta({
          description:
            'Approving in this stage needs a browser session that authenticated strongly (passkey, or the IdP with max_age) within max_age_ms; API keys and chat never do. Denying does not need it. null: no step-up',
        }),
    }),
    expires_at: z.string().nullable(),
  })
  .meta({ id: 'WorkflowProgress' });

export const PolicyOutcome = z.object({
  rule: z.string(),
  effect: z.enum(['allow', 'deny', 'review']),
  workflow: z.string().nullable(),
  hash: z.string().nullable().meta({ description: 'Version of the policy that decided' }),
  reason: z.string().nullable(),
  errors: z.array(z.object({ rule: z.string(), message: z.string() })),
});

export const ActionView = z
  .object({
    id: z.uuid(),
    status: ActionStatusSchema,
    version: z.number().int(),
    tool: z.string(),
    arguments: JsonObject.meta({ description: 'The arguments to run: the edited ones if a reviewer edited them' }),
    original_arguments: JsonObject.nullable().meta({ description: 'What the agent proposed, when a reviewer edited it' }),
    edited: z.boolean(),
    resource: z.string().nullable(),
    purpose: z.string().nullable(),
    on_behalf_of: z.string().nullable(),
    session_id: z.string().nullable(),
    parent_id: z.string().nullable(),
    root_id: z.string().nullable().meta({ description: 'The top-level ancestor of the parent_id chain (null without a parent)' }),
    annotations: JsonObject,
    metadata: JsonObject,
    agent: z.object({ id: z.string(), name: z.string() }),
    policy: PolicyOutcome,
    workflow: WorkflowProgress.nullable().meta({ description: 'Review progress while pending (and where it ended)' }),
    grant_id: z.string().nullable().meta({ description: 'The standing grant that approved this action' }),
    batch_id: z.string().nullable(),
    receipt: z.string().nullable().meta({
      description: 'Signed approval receipt (compact JWS, EdDSA): redeem it once at /v1/receipts/redeem before running the action',
    }),
    execute_by: z.string().nullable().meta({ description: 'End of the execution window; unredeemed by then, the action expires' }),
    redeemed_at: z.string().nullable(),
    redeemed: z.literal(true).optional().meta({
      description:
        'Only in the answer to POST /v1/actions?redeem=true that created the action and redeemed its receipt: this answer is the licence to run it now, once. A replay of that request has redeemed_at set but not this.',
    }),
    created_at: z.string(),
    updated_at: z.string(),
    expires_at: z.string().nullable(),
    decided_at: z.string().nullable(),
    decided_by: Party.nullable(),
    reason: z.string().nullable(),
    reviews: z.array(ReviewView),
    result: z.object({ outcome: z.enum(['succeeded', 'failed']), output: z.unknown(), at: z.string() }).nullable(),
  })
  .meta({ id: 'Action' });
export type ActionView = z.infer<typeof ActionView>;

export const ActionIdParams = z.strictObject({ id: z.string().max(64) });

export const GetActionQuery = z.strictObject({
  wait: z
    .string()
    .regex(/^\d{1,3}(\.\d{1,3})?$/, 'wait must be a number of seconds')
    .optional()
    .meta({ description: 'Seconds to hold the request while the action is pending (max 60)' }),
});

export const ListActionsQuery = z.strictObject({
  status: ActionStatusSchema.optional(),
  // Filters match stored values, which never hold control characters.
  agent: printable(256).optional().meta({ description: 'Agent name or id' }),
  tool: printable(256).optional(),
  session_id: printable(256).optional(),
  root_id: printable(64).optional().meta({ description: 'Only the action with this id and its descendants (parent_id chains)' }),
  decided_by: printable(320)
    .optional()
    .meta({ description: 'Decided by this person (email or id), or by this rule, grant or "expiry" as the action names it' }),
  from: z.iso.datetime({ offset: true }).optional().meta({ description: 'Created at or after this instant (ISO 8601)' }),
  to: z.iso.datetime({ offset: true }).optional().meta({ description: 'Created before this instant (ISO 8601)' }),
  q: printable(100)
    .optional()
    .meta({ description: 'Text the purpose contains (case-insensitive for ASCII letters; % and _ match themselves)' }),
  workflow: printable(256).optional().meta({ description: 'Reviewed under the workflow with this name' }),
  cursor: z.string().max(64).optional(),
  limit: z
    .string()
    .regex(/^\d{1,3}$/, 'limit must be a whole number')
    .optional(),
});

export const ActionList = z.object({ items: z.array(ActionView), next_cursor: z.string().nullable() }).meta({ id: 'ActionList' });

export const EventsQuery = z.strictObject({
  action: printable(64).optional(),
  agent: printable(256).optional(),
  session: printable(256).optional(),
  root: printable(64).optional().meta({ description: 'Only the action with this id and its descendants (parent_id chains)' }),
  after: z
    .string()
    .regex(/^\d{1,15}$/)
    .optional()
    .meta({ description: 'Replay events after this id (same as Last-Event-ID)' }),
});

export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
      details: JsonObject.optional(),
    }),
  })
  .meta({ id: 'Error' });
