import type { Action } from './types.js';

/**
 * The gateway's event catalogue, as it arrives on `GET /v1/events`: every type, and the fields each
 * carries beside the envelope. The same list as the gateway's `events/types.ts`, held to it by the
 * contract test. docs/events.md says when each is sent.
 */
export const EVENT_TYPES = [
  'action.created',
  'tool.approval_required',
  'action.updated',
  'action.escalated',
  'action.reminder',
  'action.approved',
  'action.denied',
  'action.expired',
  'action.cancelled',
  'action.redeemed',
  'action.executed',
  'action.failed',
  'policy.activated',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Deadlines as epoch milliseconds; null: none. */
export interface EventDeadlines {
  expires_at_ms: number | null;
  stage_timeout_at_ms: number | null;
  execute_by_ms: number | null;
}

/** The people newly asked to decide, and why now. */
export interface EventAsked {
  reason: 'review_started' | 'stage_started' | 'escalated' | 'reminder';
  stage: { index: number; name: string };
  approvers: { users: string[]; groups: string[]; roles: string[]; owner: boolean };
  /** Escalation level (1-based) and round, for escalations and reminders; null otherwise. */
  level: number | null;
  round: number | null;
}

export interface PolicyActivated {
  version: number;
  hash: string;
  previous_version: number | null;
  trigger: 'apply' | 'rollback' | 'start' | 'reload';
}

interface ActionPayload {
  action: Action;
  deadlines: EventDeadlines;
}

/** The fields each event type carries beside the envelope. */
export interface EventPayloads {
  'action.created': ActionPayload;
  'tool.approval_required': ActionPayload & { asked: EventAsked | null };
  'action.updated': ActionPayload & { asked: EventAsked | null };
  'action.escalated': ActionPayload & { asked: EventAsked };
  'action.reminder': ActionPayload & { asked: EventAsked };
  'action.approved': ActionPayload;
  'action.denied': ActionPayload;
  'action.expired': ActionPayload;
  'action.cancelled': ActionPayload;
  'action.redeemed': ActionPayload;
  'action.executed': ActionPayload;
  'action.failed': ActionPayload;
  'policy.activated': { policy: PolicyActivated };
}

/** What every event carries. `event_id` is the resume point (`Last-Event-ID`, `after`). */
export interface EventEnvelope {
  event_id: number;
  action_id: string | null;
  agent_id: string | null;
  session_id: string | null;
  /** The root of the action's `parent_id` chain. */
  root_id: string | null;
  time: string;
}

/** One event of type `T`: narrow a `CountersignEvent` by its `type`. */
export type EventOf<T extends EventType> = { [K in T]: EventEnvelope & { type: K } & EventPayloads[K] }[T];

/** Any event of the catalogue. */
export type CountersignEvent = EventOf<EventType>;

/** The events about one action (everything but policy changes). */
export type ActionEvent = Extract<CountersignEvent, { action: Action }>;

export function isActionEvent(e: CountersignEvent): e is ActionEvent {
  return 'action' in e;
}
