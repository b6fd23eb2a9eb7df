/**
 * The one domain error. Every failure a caller can act on is a CsError with a
 * code from this fixed set; each transport (HTTP, CLI, later MCP) maps codes
 * exhaustively, so adding a code fails compilation until every mapping handles it.
 */
export const ERROR_CODES = [
  'invalid_request',
  'invalid_json',
  'unsupported_media_type',
  'payload_too_large',
  'unauthenticated',
  'forbidden',
  'self_approval',
  /** The stage needs a recent strong sign-in to approve (step-up); details say how to re-authenticate. */
  'step_up_required',
  /** The session must have signed in or re-authenticated recently (adding or removing a passkey). */
  'reauthentication_required',
  'not_found',
  'conflict',
  'idempotency_conflict',
  // Receipt refusals: each reason has its own code so an executor can tell them apart.
  'receipt_invalid',
  'receipt_unsigned',
  'receipt_bad_algorithm',
  'receipt_expired',
  'receipt_used',
  'receipt_wrong_action',
  'receipt_arguments_changed',
  /** Too many attempts of one kind from one caller; retry after the time the message (and Retry-After) gives. */
  'rate_limited',
  'unavailable',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorIssue {
  path: string;
  message: string;
}

export class CsError extends Error {
  readonly code: ErrorCode;
  readonly issues: ErrorIssue[] | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, extra?: { issues?: ErrorIssue[]; details?: Record<string, unknown>; cause?: unknown }) {
    super(message, extra?.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'CsError';
    this.code = code;
    this.issues = extra?.issues;
    this.details = extra?.details;
  }

  toJSON(): { code: ErrorCode; message: string; issues?: ErrorIssue[]; details?: Record<string, unknown> } {
    return {
      code: this.code,
      message: this.message,
      ...(this.issues ? { issues: this.issues } : {}),
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

export function isCsError(e: unknown): e is CsError {
  return e instanceof CsError;
}

export function assertNever(value: never, what = 'value'): never {
  throw new Error(`unhandled ${what}: ${String(value)}`);
}
