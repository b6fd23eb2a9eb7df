import { CountersignError } from '@countersign/sdk';
import type { CallToolResult } from '@modelcontextprotocol/server';
import { assertNever, CsError, ERROR_CODES, type ErrorCode } from '../lib/errors.js';
import { textResult } from './results.js';

/**
 * The MCP transport's mapping of domain error codes, next to HTTP's status codes and the CLI's
 * exit codes. Every gateway error reaches the model as an error tool result that says the call
 * was not run (gateway errors all happen before running) and, where it can, what would help.
 * Exhaustive by construction: a new error code fails compilation here until it is handled.
 */
export function explainForModel(code: ErrorCode): string {
  switch (code) {
    case 'invalid_request':
    case 'invalid_json':
    case 'unsupported_media_type':
    case 'payload_too_large':
      return 'the approval gateway refused the call as invalid';
    case 'unauthenticated':
      return "the approval gateway did not accept the proxy's agent key (an operator must fix COUNTERSIGN_AGENT_KEY)";
    case 'forbidden':
    case 'self_approval':
    case 'step_up_required':
    case 'reauthentication_required':
      return 'the approval gateway does not allow this';
    case 'not_found':
      return 'the approval gateway does not know this action';
    case 'conflict':
    case 'idempotency_conflict':
      return 'the action changed state at the same moment; call again';
    case 'receipt_used':
      return 'this approval was already used once and is never used twice';
    case 'receipt_invalid':
    case 'receipt_unsigned':
    case 'receipt_bad_algorithm':
    case 'receipt_expired':
    case 'receipt_wrong_action':
    case 'receipt_arguments_changed':
      return 'the approval could not be redeemed';
    case 'rate_limited':
      return 'the approval gateway is refusing calls for a minute after too many failed attempts; try again later';
    case 'unavailable':
      return 'the approval gateway cannot be reached; try again later';
    case 'internal':
      return 'the approval gateway failed';
    default:
      return assertNever(code, 'error code');
  }
}

/** Any error from talking to the gateway, as a domain error (unknown codes are `internal`). */
export function toCsError(e: unknown): CsError {
  if (e instanceof CsError) return e;
  if (e instanceof CountersignError) {
    const code = (ERROR_CODES as readonly string[]).includes(e.code) ? (e.code as ErrorCode) : 'internal';
    return new CsError(code, e.message, { cause: e });
  }
  return new CsError('internal', (e as Error)?.message ?? String(e), { cause: e });
}

/** A gateway error as the tool result the model reads. */
export function gatewayErrorResult(e: unknown, exposedName: string): CallToolResult {
  const err = toCsError(e);
  return textResult(`NOT EXECUTED — ${explainForModel(err.code)} (${err.code}: ${err.message}). "${exposedName}" was not run.`, true);
}
