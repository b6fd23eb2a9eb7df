/** A call to Teams that did not succeed: the status (null: no answer) and what was said, cut. */
export class TeamsCallFailed extends Error {
  constructor(
    readonly status: number | null,
    message: string,
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
    );
  }
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
