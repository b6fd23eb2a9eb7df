import { assertNever, type ErrorCode } from '../lib/errors.js';

/** Exit status per domain error code; documented in the README. Exhaustive by construction. */
export function exitCode(code: ErrorCode): number {
  switch (code) {
    case 'invalid_request':
    case 'invalid_json':
    case 'unsupported_media_type':
    case 'payload_too_large':
      return 2;
    case 'unauthenticated':
      return 3;
    case 'forbidden':
    case 'self_approval':
    case 'step_up_required':
    case 'reauthentication_required':
      return 4;
    case 'not_found':
      return 5;
    case 'conflict':
    case 'idempotency_conflict':
    case 'receipt_used':
      return 6;
    case 'receipt_invalid':
    case 'receipt_unsigned':
    case 'receipt_bad_algorithm':
    case 'receipt_expired':
    case 'receipt_wrong_action':
    case 'receipt_arguments_changed':
      return 8;
    case 'unavailable':
    case 'rate_limited':
      return 7;
    case 'internal':
      return 1;
    default:
      return assertNever(code, 'error code');
  }
}

/**
 * How `countersign propose` ended when nothing failed: the decision itself. These start at 10 so a
 * script can tell "a person said no" from "the command could not ask" (the error codes above, 1–8).
 * Only `approved` is 0, so `countersign propose … && deploy` never runs anything else. Documented in docs/ci.md.
 */
export type Outcome = 'approved' | 'denied' | 'expired' | 'cancelled' | 'pending' | 'already_redeemed';

export function outcomeExitCode(outcome: Outcome): number {
  switch (outcome) {
    case 'approved':
      return 0;
    case 'denied':
      return 10;
    case 'expired':
      return 11;
    case 'cancelled':
      return 12;
    // Not decided yet (no --wait, or --timeout ran out): the action stays pending at the gateway.
    case 'pending':
      return 13;
    // --redeem found the approval's receipt already used: an earlier run holds the licence (it may have run).
    case 'already_redeemed':
      return 14;
    default:
      return assertNever(outcome, 'outcome');
  }
}

/**
 * Thrown by a command that has printed its result and wants a particular exit status (main() returns it):
 * commander has no way for an action to return one, and process.exit() could cut off piped output.
 */
export class ExitStatus extends Error {
  constructor(readonly status: number) {
    super(`exit ${status}`);
    this.name = 'ExitStatus';
  }
}
