import { RetryLater } from '../events/consumers/retry-later.js';

/** One send that failed: in words for the delivery record, and the platform's Retry-After if it gave one. */
export interface DeliveryError {
  message: string;
  retryAfterMs: number | null;
}

export function deliveryError(message: string, retryAfterMs: number | null = null): DeliveryError {
  return { message, retryAfterMs };
}

/** The same error, said about one recipient. */
export function about(recipient: string, e: DeliveryError): DeliveryError;
export function about(recipient: string, e: DeliveryError | null): DeliveryError | null;
export function about(recipient: string, e: DeliveryError | null): DeliveryError | null {
  return e === null ? null : { ...e, message: `${recipient}: ${e.message}` };
}

/**
 * What a channel's handler throws once every recipient was tried and some failed: a RetryLater with the
 * longest Retry-After any platform answer named (the event's retry honours it and the consumer waits
 * before sending more), else a plain error (the consumer's back-off).
 */
export function failedSends(what: string, errors: readonly DeliveryError[]): Error {
  const message = `${errors.length} ${what} failed: ${errors.map((e) => e.message).join('; ')}`;
  const waits = errors.map((e) => e.retryAfterMs).filter((ms): ms is number => ms !== null);
  return waits.length > 0 ? new RetryLater(message, Math.max(...waits)) : new Error(message);
}

/**
 * An HTTP Retry-After header (RFC 9110 §10.2.3: delay-seconds, or an HTTP-date) in milliseconds from
 * `now`; null when absent or unreadable.
 */
export function parseRetryAfter(header: string | null, now: number): number | null {
  if (header === null) return null;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // An HTTP-date names a weekday and month in letters; anything else (a negative or fractional number) is unreadable.
  if (!/[A-Za-z]/.test(value)) return null;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
