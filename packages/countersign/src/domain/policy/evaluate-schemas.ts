import { z } from 'zod';
import { ProposeActionBody } from '../actions/schemas.js';

/** The playground and replay: a candidate policy is a document as `POST /v1/policy/versions` takes it. */
const Candidate = z
  .string()
  .min(1)
  .max(1024 * 1024)
  .meta({ description: 'A candidate policy document (YAML or JSON with policy: and workflows:); absent: the active policy' });

const p = ProposeActionBody.shape;

export const EvaluatePolicyBody = z
  .strictObject({
    action: z
      .strictObject({
        tool: p.tool,
        arguments: p.arguments.optional(),
        resource: p.resource,
        purpose: p.purpose,
        on_behalf_of: p.on_behalf_of,
        session_id: p.session_id,
        annotations: p.annotations,
        metadata: p.metadata,
        agent: z
          .strictObject({
            name: z.string().min(1).max(256),
            owner: z.email().max(320).optional(),
            labels: z.record(z.string().max(256), z.string().max(1024)).optional(),
          })
          .optional()
          .meta({
            description:
              'The proposing agent; owner and labels default to those of the registered agent of that name (none for an unknown name)',
          }),
        now: z.iso.datetime().optional().meta({ description: 'The time conditions see (default: now)' }),
      })
      .meta({ description: 'An action as an agent would propose it' }),
    candidate: Candidate.optional(),
  })
  .meta({ id: 'EvaluatePolicyRequest' });
export type EvaluatePolicyBody = z.infer<typeof EvaluatePolicyBody>;

export const PolicyDecisionView = z
  .object({
    effect: z.enum(['allow', 'deny', 'review']),
    rule: z.string().meta({ description: 'The deciding rule, or "default" when none matched' }),
    workflow: z.string().nullable(),
    reason: z.string().nullable(),
    errors: z.array(z.object({ rule: z.string(), message: z.string() })).meta({ description: 'Conditions that failed to evaluate' }),
  })
  .meta({ id: 'PolicyDecision' });
export type PolicyDecisionView = z.infer<typeof PolicyDecisionView>;

const PolicyRef = z.object({
  source: z.enum(['active', 'candidate']),
  version: z.number().int().nullable().meta({ description: 'The active version number (null for a candidate)' }),
  hash: z.string(),
});

export const PolicyEvaluation = z
  .object({
    policy: PolicyRef,
    decision: PolicyDecisionView,
    matched: z
      .object({ name: z.string(), when: z.string(), position: z.number().int().meta({ description: '1-based, in policy order' }) })
      .nullable()
      .meta({ description: 'The rule that decided, with its condition; null when the policy default decided' }),
    default_effect: z.enum(['allow', 'deny', 'review']),
    annotations_trusted: z.boolean().meta({ description: "Whether the policy trusts this agent's annotations for this resource" }),
    workflow: z
      .object({ name: z.string(), stages: z.number().int() })
      .nullable()
      .meta({ description: 'For a review: the workflow the action would enter' }),
  })
  .meta({ id: 'PolicyEvaluation' });
export type PolicyEvaluation = z.infer<typeof PolicyEvaluation>;

export const MAX_REPLAY = 10_000;

export const ReplayPolicyBody = z
  .strictObject({
    candidate: Candidate.meta({ description: 'The candidate policy document to replay recent actions under' }),
    limit: z.number().int().min(1).max(MAX_REPLAY).optional().meta({ description: 'How many of the latest actions (default 1000)' }),
    since: z.iso.datetime().optional().meta({ description: 'Only actions proposed at or after this time' }),
  })
  .meta({ id: 'ReplayPolicyRequest' });
export type ReplayPolicyBody = z.infer<typeof ReplayPolicyBody>;

export const ReplayChangeView = z.object({
  id: z.string(),
  tool: z.string(),
  agent: z.string(),
  status: z.string(),
  created_at: z.string(),
  before: PolicyDecisionView.pick({ effect: true, rule: true, workflow: true }),
  after: PolicyDecisionView,
});

export const PolicyReplay = z
  .object({
    policy: z.object({ hash: z.string() }),
    scanned: z.number().int().meta({ description: 'Actions re-decided (newest first)' }),
    unchanged: z.number().int(),
    changed: z.number().int(),
    transitions: z
      .array(z.object({ from: z.string(), to: z.string(), count: z.number().int() }))
      .meta({ description: 'Counts by outcome before -> after ("review (workflow)", "allow", "deny"), largest first' }),
    items: z.array(ReplayChangeView).meta({ description: 'The changed actions, newest first (at most 500)' }),
    truncated: z.boolean().meta({ description: 'More actions changed than items lists' }),
  })
  .meta({ id: 'PolicyReplay' });
export type PolicyReplay = z.infer<typeof PolicyReplay>;
