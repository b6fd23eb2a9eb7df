/** First retry after about a second, doubling, never more than five minutes apart. */
export const RETRY_BASE_MS = 1_000;
export const RETRY_CAP_MS = 300_000;

/**
 * Delay before attempt `attempts + 1`, after `attempts` failures: exponential, capped, with jitter in
 * [50%, 100%] of the step so that events that failed together (a webhook endpoint down) do not all come
 * back in the same instant. `random` is injectable so the bounds can be tested.
 */
export function retryDelayMs(attempts: number, random: () => number = Math.random): number {
  const step = Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** Math.max(0, attempts - 1));
  return Math.round(step * (0.5 + 0.5 * random()));
}
