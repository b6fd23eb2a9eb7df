import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../../deps.js';
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
