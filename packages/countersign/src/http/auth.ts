import type { FastifyRequest } from 'fastify';
import type { Deps } from '../deps.js';
import type { Principal } from '../domain/identities/principal.js';
import { authenticateSession } from '../domain/identities/sessions/authenticate-session.js';
import { touchSession } from '../domain/identities/sessions/touch-session.js';
import { touchKey } from '../domain/identities/touch-key.js';
import { CsError } from '../lib/errors.js';
import { checkCsrf } from './csrf.js';
import { readCookie, SESSION_COOKIE } from './session-cookie.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
    /**
     * The identity epoch the API key's principal was authenticated at (null for a session): a request held
     * open starts its identity watch from it, so it re-reads nothing until the epoch moves.
     */
    identityEpoch: number | null;
  }
}

export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

/**
 * The caller: an API key when an Authorization header is sent (a wrong key is refused, never replaced by
 * a cookie), else the browser session cookie, whose writes must also pass the CSRF checks.
 */
export async function requirePrincipal(deps: Deps, request: FastifyRequest): Promise<Principal> {
  if (request.principal) return request.principal;
  if (request.headers.authorization !== undefined) {
    const token = bearerToken(request);
    if (!token) throw new CsError('unauthenticated', 'send an API key as "Authorization: Bearer cs_…"');
    const key = await deps.keys.authenticate(deps.db.read, token, deps.clock.now());
    await touchKey(deps, key.prefix, key.lastUsedAt);
    request.principal = key.principal;
    request.identityEpoch = key.epoch;
    return request.principal;
  }
  const cookie = readCookie(request, SESSION_COOKIE);
  if (!cookie) throw new CsError('unauthenticated', 'send an API key as "Authorization: Bearer cs_…", or sign in');
  const session = await authenticateSession(deps.db.read, cookie, sessionClock(deps));
  if (!session) throw new CsError('unauthenticated', 'the session has ended (signed out, timed out or revoked); sign in again');
  checkCsrf(deps, request, cookie);
  await touchSession(deps, session.row);
  request.principal = session.principal;
  return request.principal;
}

export function sessionClock(deps: Deps): { now(): number; idleTimeoutMs: number } {
  return { now: () => deps.clock.now(), idleTimeoutMs: deps.config.auth.sessions.idleTimeoutMs };
}
