import { parseRetryAfter } from '../delivery-errors.js';

/** A call to Teams that did not succeed: the status (null: no answer), what was said (cut), and its Retry-After. */
export class TeamsCallFailed extends Error {
  constructor(
    readonly status: number | null,
    message: string,
    /** A 429's (or 503's) Retry-After in milliseconds: the consumer retries no earlier. */
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
    this.name = 'TeamsCallFailed';
  }
}

const MAX_BODY = 300;

/**
 * One HTTPS call with a time limit. A 2xx answer's JSON body (or null) is returned; anything else throws
 * TeamsCallFailed, so the consumer retries (429, 5xx, a time-out) and in the end dead-letters.
 */
export async function callTeams(
  url: string,
  init: { method: 'GET' | 'POST' | 'PUT'; headers?: Record<string, string>; body?: string },
  timeoutMs: number,
): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    throw new TeamsCallFailed(null, `${init.method} ${new URL(url).host}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const text = await res.text().catch(() => '');
  if (res.status < 200 || res.status > 299) {
    const retryAfter = res.headers.get('retry-after');
    throw new TeamsCallFailed(
      res.status,
      `${init.method} ${new URL(url).pathname} answered ${res.status}${retryAfter ? ` (retry after ${retryAfter}s)` : ''}: ${text.slice(0, MAX_BODY)}`,
      // Real time: the header is the platform's, about the platform's clock (an HTTP-date) or from now (seconds).
      parseRetryAfter(retryAfter, Date.now()),
    );
  }
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
