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
