import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../../deps.js';
import type { Principal } from '../../domain/identities/principal.js';
import { CsError } from '../../lib/errors.js';

/** `?wait=N` in milliseconds, bounded by limits.max_wait_seconds; 0 when absent. */
export function waitMs(deps: Deps, wait: string | undefined): number {
  if (wait === undefined) return 0;
  const seconds = Number(wait);
  const max = deps.config.limits.maxWaitSeconds;
  if (seconds > max)
    throw new CsError('invalid_request', `wait is at most ${max} seconds`, { issues: [{ path: 'wait', message: `max ${max}` }] });
  return Math.round(seconds * 1000);
}

/**
 * Aborts when the client leaves, the server shuts down or `also` aborts, so a held request never outlives
 * any of them. One controller and plain listeners (removed by `release`): thousands are parked at once,
 * and `AbortSignal.any` would register every composite with the server-wide closing signal.
 */
export function holdSignal(request: FastifyRequest, reply: FastifyReply, also: AbortSignal): { signal: AbortSignal; release(): void } {
  const stop = new AbortController();
  const abort = () => stop.abort();
  const res = reply.raw;
  const closing = request.server.closing.signal;
  res.once('close', abort);
  closing.addEventListener('abort', abort, { once: true });
  also.addEventListener('abort', abort, { once: true });
  // A client that left while the request was being authenticated closed it before the listener was there.
  if (res.closed || closing.aborted || also.aborted) abort();
  return {
    signal: stop.signal,
    release() {
      res.off('close', abort);
      closing.removeEventListener('abort', abort);
      also.removeEventListener('abort', abort);
    },
  };
}

/**
 * Runs a held request (a long-poll) for as long as its caller keeps its power. The principal was
 * authenticated when the request arrived; if its key is revoked or its person or agent disabled while
 * it waits, the wait ends and the caller gets 401, whatever it was waiting for. The check after the
 * wait reads the epoch after any decision it carries committed, so a decision made after a revocation
 * never reaches the revoked caller. The server's close waits for it (`held`), so its reads never meet
 * a closed database.
 */
export async function holdWhileAuthorized<T>(
  deps: Deps,
  principal: Principal,
  request: FastifyRequest,
  reply: FastifyReply,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const held = request.server.held.hold();
  const watch = deps.identities.watch(principal, { verifiedAt: request.identityEpoch ?? undefined });
  const hold = holdSignal(request, reply, watch.signal);
  try {
    const result = await fn(hold.signal);
    await watch.sync();
    if (watch.signal.aborted)
      throw new CsError('unauthenticated', 'the API key was revoked, or its person or agent disabled, while waiting');
    return result;
  } finally {
    hold.release();
    watch.release();
    held();
  }
}
