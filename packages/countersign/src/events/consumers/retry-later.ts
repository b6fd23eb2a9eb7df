/**
 * What a handler throws when the far side said when to come back (HTTP 429 or 503 with `Retry-After`,
 * Slack's rate limit): the retry of this event is scheduled no earlier than `afterMs` from now (the
 * consumer's own back-off still applies when it is longer: the two are never added), and the worker
 * starts no new delivery of this consumer until then, so a rate-limited platform is not hammered by the
 * rest of the batch. Anything else thrown is an ordinary failure.
 */
export class RetryLater extends Error {
  constructor(
    message: string,
    readonly afterMs: number,
  ) {
    super(message);
    this.name = 'RetryLater';
  }
}

/** The longest wait honoured: a platform asking for more is retried after this (the back-off's own cap). */
export const MAX_RETRY_AFTER_MS = 300_000;

/** `afterMs` kept within [0, MAX_RETRY_AFTER_MS]; NaN (an unreadable header) counts as no wait. */
export function boundedRetryAfter(afterMs: number): number {
  return Number.isFinite(afterMs) ? Math.min(MAX_RETRY_AFTER_MS, Math.max(0, Math.ceil(afterMs))) : 0;
}
