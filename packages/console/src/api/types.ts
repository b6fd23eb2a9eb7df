/**
 * The gateway's wire format as the console reads it. Action and the event catalogue come from the SDK,
 * whose contract test holds them to the gateway's zod schemas; the console's own endpoints (inbox,
 * sign-in) are declared here and held to the same schemas by packages/countersign/test/console-contract.test.ts.
 * This file is types only: it is also compiled by that test, outside the browser.
 */
import type { Action, ActionStatus, CountersignEvent } from '@countersign/sdk';

export type { Action, ActionStatus, CountersignEvent };

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
  items: InboxItem[];
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
