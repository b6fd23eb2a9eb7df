/**
 * Countersign SDK: put human approval in front of an AI agent's tool calls.
 *
 * @example
 * import { createClient } from '@countersign/sdk';
 * const cs = createClient({ url: process.env.COUNTERSIGN_URL!, apiKey: process.env.COUNTERSIGN_KEY! });
 * const deploy = cs.guard(async ({ env }: { env: string }) => runDeploy(env), { tool: 'deploy' });
 * const result = await deploy({ env: 'production' }, { toolCallId: call.id }); // waits for a person
 */
export {
  Client,
  type ClientOptions,
  createClient,
  type RedeemResult,
  type ReviewInput,
  type TraceOption,
  type WaitOptions,
} from './client.js';
export { ApprovalRefused, CountersignError, refusalMessage } from './errors.js';
export {
  type ActionEvent,
  type CountersignEvent,
  EVENT_TYPES,
  type EventAsked,
  type EventDeadlines,
  type EventEnvelope,
  type EventOf,
  type EventPayloads,
  type EventType,
  isActionEvent,
  type PolicyActivated,
} from './event-types.js';
export { type EventFilter, EventsReset, type FollowOptions } from './events.js';
export { type CallContext, type Guarded, type GuardOptions, guard, isRefusal, type Refusal } from './guard.js';
export {
  type ApplyOptions,
  ApprovalPending,
  applyToolApproval,
  approvalRequests,
  isApprovalPending,
  type ToolApproval,
  type ToolApprovalRequired,
  toApprovalRequired,
} from './harness.js';
export {
  actionDigest,
  RECEIPT_TYPE,
  type ReceiptAction,
  type ReceiptClaims,
  ReceiptError,
  type ReceiptErrorCode,
  receiptSubject,
  verifyReceipt,
} from './receipts.js';
export { parseSse, type SseMessage } from './sse.js';
export type { TraceHeaders } from './trace-context.js';
export type { Action, ActionStatus, ProposedAction } from './types.js';
export { isDecided } from './types.js';
