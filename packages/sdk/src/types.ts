/** The action as the gateway returns it (the `Action` schema of its /openapi.json). */
export interface Action {
  id: string;
  status: ActionStatus;
  version: number;
  tool: string;
  /** The arguments to run: the edited ones if a reviewer edited them. */
  arguments: Record<string, unknown>;
  /** What the agent proposed, when a reviewer edited it. */
  original_arguments: Record<string, unknown> | null;
  edited: boolean;
  resource: string | null;
  purpose: string | null;
  on_behalf_of: string | null;
  session_id: string | null;
  parent_id: string | null;
  /** The top-level ancestor of the `parent_id` chain (null without a parent). */
  root_id: string | null;
  annotations: Record<string, unknown>;
  metadata: Record<string, unknown>;
  agent: { id: string; name: string };
  policy: {
    rule: string;
    effect: 'allow' | 'deny' | 'review';
    workflow: string | null;
    hash: string | null;
    reason: string | null;
    errors: { rule: string; message: string }[];
  };
  workflow: {
    name: string;
    stage: {
      index: number;
      name: string;
      of: number;
      quorum: number;
      approvals: string[];
      still_needed: number;
      approvers: { users: string[]; groups: string[]; roles: string[]; owner: boolean };
      escalations: number;
      timeout_at: string | null;
      /** Approving in this stage needs a strong sign-in (passkey, or the IdP) within max_age_ms; API keys never do. */
      step_up: { max_age_ms: number } | null;
    };
    expires_at: string | null;
  } | null;
  grant_id: string | null;
  batch_id: string | null;
  /** Signed approval receipt (compact JWS); redeem it once before running. */
  receipt: string | null;
  execute_by: string | null;
  redeemed_at: string | null;
  /** Only on the answer to `propose(…, { redeem: true })` that redeemed the receipt: run it now, once. */
  redeemed?: true;
  created_at: string;
  updated_at: string;
  expires_at: string | null;
  decided_at: string | null;
  decided_by: { type: 'user' | 'agent' | 'policy' | 'grant' | 'system'; id: string | null; label: string | null } | null;
  /** Why it was denied or expired: hand this to the model. */
  reason: string | null;
  reviews: {
    id: string;
    /** Who voted. */
    reviewer: { id: string; email: string };
    /** Whose vote it is when the reviewer voted as their delegate ("reviewer for …"); null: their own. */
    for: { id: string; email: string } | null;
    /** The delegation the vote was cast under. */
    delegation_id: string | null;
    decision: 'approve' | 'deny';
    reason: string | null;
    edited: boolean;
    channel: string;
    stage: number | null;
    at: string;
  }[];
  result: { outcome: 'succeeded' | 'failed'; output: unknown; at: string } | null;
}

export type ActionStatus = 'pending' | 'approved' | 'denied' | 'expired' | 'cancelled' | 'executed' | 'failed';

/** What an agent proposes. */
export interface ProposedAction {
  tool: string;
  arguments: Record<string, unknown>;
  resource?: string;
  purpose?: string;
  on_behalf_of?: string;
  session_id?: string;
  parent_id?: string;
  annotations?: { readOnlyHint?: boolean; destructiveHint?: boolean; idempotentHint?: boolean; openWorldHint?: boolean; title?: string };
  metadata?: Record<string, unknown>;
}

/** One event of the gateway's SSE stream. */
export function isDecided(status: ActionStatus): boolean {
  return status !== 'pending';
}
