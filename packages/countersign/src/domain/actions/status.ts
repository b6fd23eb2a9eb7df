import { assertNever } from '../../lib/errors.js';

/**
 * The one place that knows how an action may move through its life. See the diagram
 * in ARCHITECTURE.md. Every storage write that changes it asks `nextPhase` first and
 * then does a compare-and-set on (status, version).
 */
export const ACTION_STATUSES = ['pending', 'approved', 'denied', 'expired', 'cancelled', 'executed', 'failed'] as const;
export type ActionStatus = (typeof ACTION_STATUSES)[number];

/**
 * The lifecycle's states: the stored status, with an approval split by whether its receipt has been
 * redeemed (the licence to run, used once). On the wire both are `approved`, with `redeemed_at` telling them apart.
 */
export const ACTION_PHASES = ['pending', 'approved', 'redeemed', 'denied', 'expired', 'cancelled', 'executed', 'failed'] as const;
export type ActionPhase = (typeof ACTION_PHASES)[number];

export const TRANSITIONS = ['approve', 'deny', 'expire', 'cancel', 'redeem', 'succeed', 'fail'] as const;
export type Transition = (typeof TRANSITIONS)[number];

export function phaseOf(status: ActionStatus, redeemedAt: number | null): ActionPhase {
  return status === 'approved' && redeemedAt !== null ? 'redeemed' : status;
}

/** The status stored for a phase. */
export function statusOf(phase: ActionPhase): ActionStatus {
  return phase === 'redeemed' ? 'approved' : phase;
}

export function nextPhase(from: ActionPhase, t: Transition): ActionPhase | null {
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
        case 'redeem':
        case 'succeed':
        case 'fail':
          return null;
        default:
          return assertNever(t, 'transition');
      }
    case 'approved':
      switch (t) {
        case 'redeem':
          return 'redeemed';
        case 'expire':
          // The execution window closed with the receipt never redeemed: it may no longer run.
          return 'expired';
        case 'succeed':
        case 'fail':
          // Nothing licensed a run yet: a result now would record a run that never had its receipt checked.
          return null;
        case 'approve':
        case 'deny':
        case 'cancel':
          // Once approved, only redeeming (then the run's report) or the closing window moves it on.
          return null;
        default:
          return assertNever(t, 'transition');
      }
    case 'redeemed':
      switch (t) {
        case 'succeed':
          return 'executed';
        case 'fail':
          return 'failed';
        case 'approve':
        case 'deny':
        case 'expire':
        case 'cancel':
        case 'redeem':
          // It may be running: only its report moves it on (a redeemed action never expires, and is used once).
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

export function parseStatus(value: string): ActionStatus {
  if ((ACTION_STATUSES as readonly string[]).includes(value)) return value as ActionStatus;
  throw new Error(`unknown action status in storage: ${value}`);
}
