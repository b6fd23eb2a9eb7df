import { assertNever } from '../../lib/errors.js';

/**
 * The one place that knows how an action's status may change. See the diagram
 * in ARCHITECTURE.md. Every storage write that changes status asks
 * `nextStatus` first and then does a compare-and-set on (status, version).
 */
export const ACTION_STATUSES = ['pending', 'approved', 'denied', 'expired', 'cancelled', 'executed', 'failed'] as const;
export type ActionStatus = (typeof ACTION_STATUSES)[number];

export const TRANSITIONS = ['approve', 'deny', 'expire', 'cancel', 'succeed', 'fail'] as const;
export type Transition = (typeof TRANSITIONS)[number];

export function nextStatus(from: ActionStatus, t: Transition): ActionStatus | null {
  switch (from) {
    case 'pending':
      switch (t) {
        case 'approve':
          return 'approved';
        case 'deny':
          return 'denied';
        case 'expire':
          return 'expired';
        case 'cancel':
          return 'cancelled';
        case 'succeed':
        case 'fail':
          return null;
        default:
          return assertNever(t, 'transition');
      }
    case 'approved':
      switch (t) {
        case 'succeed':
          return 'executed';
        case 'fail':
          return 'failed';
        case 'expire':
          // The execution window closed with the receipt never redeemed: it may no longer run.
          return 'expired';
        case 'approve':
        case 'deny':
        case 'cancel':
          // Once approved, only the run (its report) or the closing window moves it on.
          return null;
        default:
          return assertNever(t, 'transition');
      }
    case 'denied':
    case 'expired':
    case 'cancelled':
    case 'executed':
    case 'failed':
      return null;
    default:
      return assertNever(from, 'status');
  }
}

/** The status an action is created in, from the policy's effect. */
export function initialStatus(effect: 'allow' | 'deny' | 'review'): ActionStatus {
  switch (effect) {
    case 'allow':
      return 'approved';
    case 'deny':
      return 'denied';
    case 'review':
      return 'pending';
    default:
      return assertNever(effect, 'effect');
  }
}

/** Whether the agent waiting on this action has its answer. */
export function isDecided(status: ActionStatus): boolean {
  switch (status) {
    case 'pending':
      return false;
    case 'approved':
    case 'denied':
    case 'expired':
    case 'cancelled':
    case 'executed':
    case 'failed':
      return true;
    default:
      return assertNever(status, 'status');
  }
}

/** The event published when an action enters a status. */
export function eventForStatus(status: ActionStatus): string {
  switch (status) {
    case 'pending':
      return 'tool.approval_required';
    case 'approved':
      return 'action.approved';
    case 'denied':
      return 'action.denied';
    case 'expired':
      return 'action.expired';
    case 'cancelled':
      return 'action.cancelled';
    case 'executed':
      return 'action.executed';
    case 'failed':
      return 'action.failed';
    default:
      return assertNever(status, 'status');
  }
}

export function parseStatus(value: string): ActionStatus {
  if ((ACTION_STATUSES as readonly string[]).includes(value)) return value as ActionStatus;
  throw new Error(`unknown action status in storage: ${value}`);
}
