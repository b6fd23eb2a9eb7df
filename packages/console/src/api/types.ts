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
}

/** One action as a person sees it (GET /v1/inbox/:id): the whole action. */
export interface InboxItem {
  action: Action;
  /** The person who owns the proposing agent. */
  owner: { id: string; email: string } | null;
  can_decide: boolean;
  /** Why the caller may not vote now; null when they may. */
  why_not: string | null;
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

export interface SignInInput {
  email: string;
  password: string;
}

export interface ReviewInput {
  decision: 'approve' | 'deny';
  reason?: string;
}

export interface ErrorBody {
  error: {
    code: string;
    message: string;
    issues?: { path: string; message: string }[] | undefined;
    details?: Record<string, unknown> | undefined;
  };
}
