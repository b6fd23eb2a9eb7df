import { z } from 'zod';
import { ActionView, ApproversView } from '../domain/actions/schemas.js';

/**
 * The event catalogue: every event the gateway writes to its outbox (the `events` table), one payload
 * schema per type. Stream readers (SSE, long-polls), other gateways and durable consumers all read
 * these, so they carry what a consumer needs without re-deriving it: the action as it now is, its
 * deadlines in milliseconds, and, where people are newly asked to decide, who. Event names appear as
 * string literals here and nowhere else; code names them through `EVENT`. The SDK exports the same
 * catalogue (packages/sdk/src/event-types.ts), held to this one by its contract test.
 *
 * Audit entries are a different log with their own names (docs/audit.md); these are the notifications.
 */
export const EVENT = {
  /** Every new action, whatever the policy decided (followed by its status event). */
  actionCreated: 'action.created',
  /** An action is pending: people are asked to decide. */
  approvalRequired: 'tool.approval_required',
  /** Progress inside a review: a vote short of quorum, or a new stage (then `asked` names its approvers). */
  actionUpdated: 'action.updated',
  /** A stage's escalation level fired: more people are asked. */
  actionEscalated: 'action.escalated',
  /** Every escalation level has fired; the approvers in force are reminded. */
  actionReminder: 'action.reminder',
  actionApproved: 'action.approved',
  actionDenied: 'action.denied',
  actionExpired: 'action.expired',
  actionCancelled: 'action.cancelled',
  /** The approved action's receipt was redeemed: the agent may run it now, once. */
  actionRedeemed: 'action.redeemed',
  actionExecuted: 'action.executed',
  actionFailed: 'action.failed',
  /** A policy version became the one every gateway decides with. */
  policyActivated: 'policy.activated',
} as const;

export type EventType = (typeof EVENT)[keyof typeof EVENT];
export const EVENT_TYPES = Object.values(EVENT) as readonly EventType[];

/** Deadlines as epoch milliseconds (null: none), so schedulers and notifiers never parse dates. */
export const Deadlines = z
  .object({
    expires_at_ms: z.number().int().nullable().meta({ description: 'The whole review expires undecided at this time' }),
    stage_timeout_at_ms: z.number().int().nullable().meta({ description: "The current stage's time-out" }),
    execute_by_ms: z.number().int().nullable().meta({ description: 'An approved action not redeemed by then expires' }),
  })
  .meta({ id: 'EventDeadlines' });
export type Deadlines = z.infer<typeof Deadlines>;

/** The people newly asked to decide, and why they are asked now. */
export const Asked = z
  .object({
    reason: z.enum(['review_started', 'stage_started', 'escalated', 'reminder']),
    stage: z.object({ index: z.number().int(), name: z.string() }),
    approvers: ApproversView,
    /** Escalation level (1-based) and round, for escalations and reminders. */
    level: z.number().int().nullable(),
    round: z.number().int().nullable(),
  })
  .meta({ id: 'EventAsked' });
export type Asked = z.infer<typeof Asked>;

const ActionPayload = z.object({ action: ActionView, deadlines: Deadlines });
const AskingPayload = ActionPayload.extend({ asked: Asked });
const ProgressPayload = ActionPayload.extend({ asked: Asked.nullable() });

export const PolicyActivated = z
  .object({
    version: z.number().int(),
    hash: z.string(),
    previous_version: z.number().int().nullable(),
    trigger: z.enum(['apply', 'rollback', 'start', 'reload']),
  })
  .meta({ id: 'PolicyActivated' });

/** One payload schema per event type: the `data` of a stored event and the body fields of its wire form. */
export const EVENT_PAYLOADS = {
  'action.created': ActionPayload,
  'tool.approval_required': ProgressPayload,
  'action.updated': ProgressPayload,
  'action.escalated': AskingPayload,
  'action.reminder': AskingPayload,
  'action.approved': ActionPayload,
  'action.denied': ActionPayload,
  'action.expired': ActionPayload,
  'action.cancelled': ActionPayload,
  'action.redeemed': ActionPayload,
  'action.executed': ActionPayload,
  'action.failed': ActionPayload,
  'policy.activated': z.object({ policy: PolicyActivated }),
} satisfies Record<EventType, z.ZodType>;

export type EventPayloads = { [K in EventType]: z.infer<(typeof EVENT_PAYLOADS)[K]> };

/** What every message on the stream carries beside its payload; `event_id` is the resume point. */
const Envelope = z.object({
  event_id: z.number().int(),
  action_id: z.string().nullable(),
  agent_id: z.string().nullable(),
  session_id: z.string().nullable(),
  root_id: z.string().nullable(),
  time: z.string(),
});

/** One message of `GET /v1/events` (its `data:` line), for the OpenAPI document: envelope + the type's payload. */
export const EventMessage = z
  .discriminatedUnion(
    'type',
    EVENT_TYPES.map((t) => Envelope.extend({ type: z.literal(t) }).extend(EVENT_PAYLOADS[t].shape)) as unknown as [
      z.ZodObject,
      z.ZodObject,
      ...z.ZodObject[],
    ],
  )
  .meta({ id: 'Event' });

/** Event types whose payload carries an action. */
export type ActionEventType = { [K in EventType]: EventPayloads[K] extends { action: ActionView } ? K : never }[EventType];

/** Who an event is about: what streams filter on and what an agent key may see (its own). */
export interface EventScope {
  actionId: string | null;
  agentId: string | null;
  sessionId: string | null;
  /** The root of the action's parent chain, for runs that follow their subagents' approvals. */
  rootId: string | null;
}

/** An event as an operation queues it (`tx.emit`): a type and the payload of exactly that type. */
export type EventInput = { [K in EventType]: EventScope & { type: K; data: EventPayloads[K] } }[EventType];

/**
 * An event as committed: its outbox sequence number (the SSE id) and commit time added. `epoch`, where known, is
 * an identity epoch that counts every identity change committed before the event: the epoch at its commit (a
 * local commit: db/append-logs.ts) or the one read in the same statement as the event (the feed's outbox read).
 * A held request whose principal was verified at that epoch may have the event with no read of its own
 * (IdentityWatch.covers). It is how the event was delivered, not what it says: never on the wire.
 */
export type StoredEvent = EventInput & { seq: number; ts: number; epoch?: number };

export function isEventType(value: string): value is EventType {
  return (EVENT_TYPES as readonly string[]).includes(value);
}

/** Narrows a stored event to those carrying an action (everything but policy changes). */
export function actionOf(e: StoredEvent): ActionView | undefined {
  return 'action' in e.data ? e.data.action : undefined;
}
