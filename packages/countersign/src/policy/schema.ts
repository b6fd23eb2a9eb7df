import { z } from 'zod';
import { parseDuration } from '../lib/duration.js';

/** "90s", "15m", "1h", "7d" or a bare number of seconds → milliseconds. */
export const Duration = z.union([z.string(), z.number().int().nonnegative()]).transform((v, ctx) => {
  if (typeof v === 'number') return v * 1000;
  const ms = parseDuration(v);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${v}" is not a duration (use e.g. 90s, 15m, 1h, 7d)` });
    return z.NEVER;
  }
  return ms;
});

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
export const RuleName = z.string().regex(NAME_RE, 'names are 1-64 letters, digits, ".", "_", ":" or "-"');
/** A CEL expression as written by a person; compiled (and type-checked) when the policy loads. */
const CelText = z.string().min(1).max(4096);

export const EFFECTS = ['allow', 'deny', 'review'] as const;
export type Effect = (typeof EFFECTS)[number];

export const RuleSchema = z.strictObject({
  name: RuleName,
  when: CelText,
  effect: z.enum(EFFECTS),
  /** Only with effect review; defaults to the workflow named "default". */
  workflow: RuleName.optional(),
  /** Shown to the agent on deny, and to reviewers on review. */
  reason: z.string().min(1).max(1024).optional(),
});
export type RuleConfig = z.infer<typeof RuleSchema>;

/**
 * Agents whose tool annotations (readOnlyHint and the rest) the operator vouches for: typically an MCP proxy
 * relaying hints from servers the operator chose. A bare name trusts every call of that agent; `resources`
 * narrows it to calls whose `resource` (the MCP proxy sets the upstream server's name) is listed.
 */
export const TrustedAnnotationsSchema = z.union([
  RuleName,
  z.strictObject({ agent: RuleName, resources: z.array(z.string().min(1).max(256)).min(1).max(1000).optional() }),
]);
export type TrustedAnnotationsConfig = z.infer<typeof TrustedAnnotationsSchema>;

export const PolicySchema = z.strictObject({
  /** What happens when no rule matches. Review goes to the "default" workflow. */
  default: z.enum(EFFECTS).default('review'),
  /** Omitted: the built-in rules (policy/defaults.ts). */
  rules: z.array(RuleSchema).max(10_000).optional(),
  /** Whose annotations the policy may believe: `annotations_trusted` is true only for these. Nobody by default. */
  trust_annotations: z.array(TrustedAnnotationsSchema).max(1000).default([]),
});
export type PolicyFileConfig = z.infer<typeof PolicySchema>;
export type PolicyConfig = Omit<PolicyFileConfig, 'rules'> & { rules: RuleConfig[] };

export const ROLES = ['viewer', 'reviewer', 'admin'] as const;

/** Who may vote. A person matches if any entry matches; `owner` is the proposing agent's owner. */
export const ApproversSchema = z
  .strictObject({
    users: z
      .array(z.email().transform((e) => e.toLowerCase()))
      .max(1000)
      .optional(),
    groups: z.array(z.string().min(1).max(128)).max(1000).optional(),
    roles: z
      .array(z.enum(['reviewer', 'admin']))
      .max(2)
      .optional(),
    owner: z.boolean().optional(),
  })
  .refine((a) => (a.users?.length ?? 0) + (a.groups?.length ?? 0) + (a.roles?.length ?? 0) > 0 || a.owner === true, {
    message: 'approvers must name at least one user, group, role or owner: true',
  });
export type ApproversConfig = z.infer<typeof ApproversSchema>;

export const EscalationLevelSchema = z.strictObject({
  /** Delay after the stage started (first level) or after the previous level fired. */
  after: Duration,
  approvers: ApproversSchema,
});

/** Shortest and longest `step_up.max_age`: shorter cannot be met by a person; longer is no step-up. */
export const STEP_UP_MIN_MS = 30_000;
export const STEP_UP_MAX_MS = 86_400_000;

/**
 * Approving in this stage needs a recent strong sign-in (passkey, or the IdP re-authenticating with
 * max_age): the voter's session must have authenticated strongly within `max_age`. API keys and chat never do.
 */
export const StepUpSchema = z.strictObject({
  max_age: Duration.refine((ms) => ms >= STEP_UP_MIN_MS && ms <= STEP_UP_MAX_MS, {
    message: 'step_up.max_age must be between 30s and 24h',
  }),
});
export type StepUpConfig = z.infer<typeof StepUpSchema>;

export const StageSchema = z
  .strictObject({
    name: RuleName.optional(),
    approvers: ApproversSchema,
    quorum: z.number().int().min(1).max(100).default(1),
    /** CEL over the action, evaluated when the stage is reached; false skips the stage. */
    when: CelText.optional(),
    timeout: Duration.optional(),
    on_timeout: z.enum(['escalate', 'deny', 'expire']).optional(),
    escalation: z
      .union([
        z.array(EscalationLevelSchema).max(20),
        z.strictObject({ levels: z.array(EscalationLevelSchema).min(1).max(20), repeat: z.number().int().min(0).max(100).default(0) }),
      ])
      .optional(),
    /** How many times the escalation levels run again (re-notifying) once all have fired. */
    repeat: z.number().int().min(0).max(100).optional(),
    /** Approvals in this stage need a fresh strong sign-in (denials never do). */
    step_up: StepUpSchema.optional(),
  })
  .superRefine((s, ctx) => {
    if (s.on_timeout !== undefined && s.timeout === undefined) {
      ctx.addIssue({ code: 'custom', path: ['on_timeout'], message: 'on_timeout needs a timeout' });
    }
    const levels = Array.isArray(s.escalation) ? s.escalation : (s.escalation?.levels ?? []);
    if (s.on_timeout === 'escalate' && levels.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['escalation'], message: 'on_timeout: escalate needs at least one escalation level' });
    }
  });
export type StageConfig = z.infer<typeof StageSchema>;

export const WorkflowSchema = z.strictObject({
  description: z.string().max(1024).optional(),
  /** The whole review fails closed (expired) after this long; default review.default_expiry (1h). */
  expires_after: Duration.optional(),
  stages: z.array(StageSchema).min(1).max(20),
});
export type WorkflowConfig = z.infer<typeof WorkflowSchema>;

export const WorkflowsSchema = z.record(RuleName, WorkflowSchema);

export const GrantsConfigSchema = z.strictObject({
  /** Longest a standing grant may live. */
  max_duration: Duration.optional(),
  /** Most uses a standing grant may have. */
  max_uses: z.number().int().min(1).max(1_000_000).optional(),
});
