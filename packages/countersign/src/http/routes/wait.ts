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

/** Aborts when the client leaves or the server shuts down, so a held request never outlives either. */
export function waitSignal(request: FastifyRequest, reply: FastifyReply): AbortSignal {
  const gone = new AbortController();
  reply.raw.once('close', () => gone.abort());
  return AbortSignal.any([gone.signal, request.server.closing.signal]);
}

/**
 * Runs a held request (a long-poll) for as long as its caller keeps its power. The principal was
 * authenticated when the request arrived; if its key is revoked or its person or agent disabled while
 * it waits, the wait ends and the caller gets 401, whatever it was waiting for. The check after the
 * wait reads the epoch after any decision it carries committed, so a decision made after a revocation
 * never reaches the revoked caller.
 */
export async function holdWhileAuthorized<T>(
  deps: Deps,
  principal: Principal,
  request: FastifyRequest,
  reply: FastifyReply,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const watch = deps.identities.watch(principal);
  try {
    const result = await fn(AbortSignal.any([waitSignal(request, reply), watch.signal]));
    await watch.sync();
    if (watch.signal.aborted)
      throw new CsError('unauthenticated', 'the API key was revoked, or its person or agent disabled, while waiting');
    return result;
  } finally {
    watch.release();
  }
}
