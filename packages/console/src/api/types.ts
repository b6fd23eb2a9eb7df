/**
 * The gateway's wire format as the console reads it. Action and the event catalogue come from the SDK,
 * whose contract test holds them to the gateway's zod schemas; the console's own endpoints (inbox,
 * sign-in) are declared here and held to the same schemas by packages/countersign/test/console-contract.test.ts.
 * This file is types only: it is also compiled by that test, outside the browser.
 */
import type { Action, ActionStatus, CountersignEvent } from '@countersign/sdk';

export type { Action, ActionStatus, CountersignEvent };

/** An action in the inbox list: without its payloads (arguments, metadata, result…), with the arguments' size. */
export type ActionSummary = Omit<
  Action,
  'arguments' | 'original_arguments' | 'annotations' | 'metadata' | 'receipt' | 'reviews' | 'result' | 'redeemed'
> & { arguments_bytes: number };

export interface InboxEntry {
  action: ActionSummary;
  owner: { id: string; email: string } | null;
  can_decide: boolean;
  why_not: string | null;
  /** People whose vote I hold through a delegation and may cast here (empty when I vote only as myself). */
  may_vote_for: VoteFor[];
}

/** Someone whose vote I may cast on an action, through a delegation in force. */
export interface VoteFor {
  email: string;
  delegation_id: string;
}

/** One action as a person sees it (GET /v1/inbox/:id): the whole action. */
export interface InboxItem {
  action: Action;
  /** The person who owns the proposing agent. */
  owner: { id: string; email: string } | null;
  can_decide: boolean;
  /** Why the caller may not vote now; null when they may. */
  why_not: string | null;
  may_vote_for: VoteFor[];
}

export interface Inbox {
  need_you: number;
  waiting_on_others: number;
  items: InboxEntry[];
}

export interface InboxFilter {
  agent?: string;
  tool?: string;
}

export interface Me {
  type: 'user' | 'agent';
  id: string;
  name: string;
  email?: string | undefined;
  role?: string | undefined;
  groups?: string[] | undefined;
  key_prefix: string | null;
  credential: 'api_key' | 'session' | 'chat';
  /** Whom I may vote for now (delegations I hold that are in force). */
  acting_for?: ActingFor[] | undefined;
}

export interface ActingFor {
  delegation_id: string;
  id: string;
  email: string;
  until: string;
}

export interface SignedIn {
  user_id: string;
  email: string;
  expires_at: string;
  csrf_token: string;
}

export interface SignInMethods {
  password: boolean;
  sso: boolean;
}

/** POST /v1/auth/login for a person with a passkey: the second step to take. */
export interface PasskeyStep {
  passkey_required: true;
  pending_token: string;
  expires_at: string;
  options: Record<string, unknown>;
}

export interface SignInInput {
  email: string;
  password: string;
}

export interface ReviewInput {
  decision: 'approve' | 'deny';
  reason?: string;
  /** Cast the vote of this person (a delegation I hold), not my own. */
  for?: string;
}

/** What a step-up refusal (403 step_up_required) tells the console to offer. */
export interface StepUpDetails {
  stage?: string;
  step_up?: { max_age_ms: number };
  reauthenticate?: {
    oidc: string | null;
    passkey: { options: string; verify: string } | null;
  };
}

export interface ErrorBody {
  error: {
    code: string;
    message: string;
    issues?: { path: string; message: string }[] | undefined;
    details?: Record<string, unknown> | undefined;
  };
}
