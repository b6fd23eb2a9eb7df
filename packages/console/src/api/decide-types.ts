/**
 * The wire types of deciding in full (edit, grant, batch, filters, the subagent tree), held to the gateway's
 * zod schemas by packages/countersign/test/console-contract.test.ts like the rest of the console's types.
 * Types only.
 */
import type { Action, InboxFilter } from './types.js';

/** GET /v1/review-settings */
export interface ReviewSettings {
  deny_reasons: string[];
  grants: { max_duration_ms: number; max_uses: number };
}

/** "Approve, and allow similar ones" (ReviewBody.grant). */
export interface GrantRequest {
  scope?: 'agent' | 'session';
  /** A duration such as "30m" or "4h". */
  expires_in?: string;
  max_uses?: number;
  match?: { arguments: Record<string, unknown> } | { when: string };
}

/** POST /v1/actions/:id/reviews with everything it can carry. */
export interface FullReviewInput {
  decision: 'approve' | 'deny';
  reason?: string;
  /** Edited arguments: present means edit-and-approve. */
  arguments?: Record<string, unknown>;
  grant?: GrantRequest;
  for?: string;
}

/** GET /v1/inbox with the filters beyond agent and tool. */
export interface FullInboxFilter extends InboxFilter {
  workflow?: string;
  /** A duration such as "30m", "2h", "1d". */
  older_than?: string;
}

/** GET /v1/batches/:id */
export interface Batch {
  batch_id: string;
  decided: boolean;
  actions: Action[];
}

export interface BatchReviewInput {
  decision: 'approve' | 'deny';
  reason?: string;
  ids?: string[];
  for?: string;
}

/** POST /v1/batches/:id/reviews */
export interface BatchReviewResult {
  batch_id: string;
  results: { id: string; ok: boolean; action?: Action | undefined; error?: { code: string; message: string } | undefined }[];
}

/** GET /v1/actions */
export interface ActionList {
  items: Action[];
  next_cursor: string | null;
}
