import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { storageUnavailable } from '../db/storage-errors.js';
import { assertNever, CsError, type ErrorCode, isCsError } from '../lib/errors.js';

/** The HTTP status of each domain error code. Exhaustive: a new code does not compile until it is mapped. */
export function httpStatus(code: ErrorCode): number {
  switch (code) {
    case 'invalid_request':
    case 'invalid_json':
      return 400;
    case 'unauthenticated':
      return 401;
    case 'forbidden':
    case 'self_approval':
    case 'step_up_required':
    case 'reauthentication_required':
      return 403;
    case 'not_found':
      return 404;
    case 'conflict':
    case 'idempotency_conflict':
    case 'receipt_used':
      return 409;
    case 'receipt_invalid':
    case 'receipt_unsigned':
    case 'receipt_bad_algorithm':
      return 400;
    case 'receipt_expired':
      return 410;
    case 'receipt_wrong_action':
    case 'receipt_arguments_changed':
      return 422;
    case 'payload_too_large':
      return 413;
    case 'unsupported_media_type':
      return 415;
    case 'rate_limited':
      return 429;
    case 'unavailable':
      return 503;
    case 'internal':
      return 500;
    default:
      return assertNever(code, 'error code');
  }
}

/**
 * Turns Fastify's own request errors (parsing, size, media type) and storage faults (db/storage-errors.ts)
 * into domain errors; anything else is internal.
 */
export function toCsError(err: unknown): CsError {
  if (isCsError(err)) return err;
  const fe = err as Partial<FastifyError> & { name?: string };
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new CsError('payload_too_large', 'the request body is larger than the server accepts');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new CsError('unsupported_media_type', 'send the body as application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new CsError('invalid_json', 'the body is empty but Content-Type says JSON');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new CsError('invalid_request', 'Content-Length does not match the body');
    default:
      break;
  }
  if (fe.name === 'SyntaxError' || fe.statusCode === 400) {
    return new CsError('invalid_json', `the body is not valid JSON: ${fe.message ?? 'parse error'}`);
  }
  if (fe.statusCode === 413) return new CsError('payload_too_large', 'the request body is too large');
  if (fe.statusCode === 415) return new CsError('unsupported_media_type', 'send the body as application/json');
  // A read that met a dead connection or a full disk: the storage's fault, retryable, never a 500.
  return storageUnavailable(err) ?? new CsError('internal', 'internal error', { cause: err });
}

/** Answers in the envelope; `status` only where the protocol has a more precise one than the code's (414, 431). */
export function sendError(request: FastifyRequest, reply: FastifyReply, err: unknown, statusOverride?: number): FastifyReply {
  const cs = toCsError(err);
  const status = statusOverride ?? httpStatus(cs.code);
  if (status >= 500) request.log.error({ err: cs.cause ?? err }, 'request failed');
  if (cs.code === 'unauthenticated') reply.header('www-authenticate', 'Bearer realm="countersign"');
  const retryAfter = cs.details?.retry_after_seconds;
  if ((cs.code === 'rate_limited' || cs.code === 'unavailable') && typeof retryAfter === 'number')
    reply.header('retry-after', String(retryAfter));
  return reply.code(status).send({ error: cs.toJSON() });
}
