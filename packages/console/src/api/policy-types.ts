/**
 * The policy administration wire format as the console reads it (GET /v1/policy, /v1/policy/versions,
 * POST /v1/policy/versions, /v1/policy/rollback, /v1/policy/evaluate, /v1/policy/replay), held to the
 * gateway's zod schemas by test/policy-contract.test.ts. Types only.
 */

export type PolicyTrigger = 'apply' | 'rollback' | 'start' | 'reload';
export type Effect = 'allow' | 'deny' | 'review';

export interface PolicyVersion {
  version: number;
  hash: string;
  active: boolean;
  applied_at: string;
  applied_by: { type: string; id: string | null; label: string };
  trigger: PolicyTrigger;
  note: string | null;
  restored_from: number | null;
}

export interface PolicyDocument extends PolicyVersion {
  document: string;
}

export interface ActivePolicy extends PolicyDocument {
  serving: { version: number | null; hash: string };
}

export interface PolicyVersions {
  active_version: number | null;
  items: PolicyVersion[];
}

export interface PolicyChange {
  changed: boolean;
  version: PolicyVersion;
  previous_version: number | null;
}

export interface ApplyPolicyInput {
  document: string;
  note?: string;
  expected_version?: number;
}

export interface RollbackPolicyInput {
  version: number;
  note?: string;
  expected_version?: number;
}

/** An action as an agent would propose it, for the playground. */
export interface PlaygroundAction {
  tool: string;
  arguments?: Record<string, unknown>;
  resource?: string;
  purpose?: string;
  on_behalf_of?: string;
  session_id?: string;
  annotations?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  agent?: { name: string; owner?: string; labels?: Record<string, string> };
  now?: string;
}

export interface EvaluateInput {
  action: PlaygroundAction;
  candidate?: string;
}

export interface PolicyDecision {
  effect: Effect;
  rule: string;
  workflow: string | null;
  reason: string | null;
  errors: { rule: string; message: string }[];
}

export interface PolicyEvaluation {
  policy: { source: 'active' | 'candidate'; version: number | null; hash: string };
  decision: PolicyDecision;
  matched: { name: string; when: string; position: number } | null;
  default_effect: Effect;
  annotations_trusted: boolean;
  workflow: { name: string; stages: number } | null;
}

export interface ReplayInput {
  candidate: string;
  limit?: number;
  since?: string;
}

export interface ReplayChange {
  id: string;
  tool: string;
  agent: string;
  status: string;
  created_at: string;
  before: { effect: Effect; rule: string; workflow: string | null };
  after: PolicyDecision;
}

export interface PolicyReplay {
  policy: { hash: string };
  scanned: number;
  unchanged: number;
  changed: number;
  transitions: { from: string; to: string; count: number }[];
  items: ReplayChange[];
  truncated: boolean;
}
