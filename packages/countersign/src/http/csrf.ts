import type { FastifyRequest } from 'fastify';
import type { Deps } from '../deps.js';
import { csrfTokenFor } from '../domain/identities/sessions/csrf.js';
import { sameSecret } from '../domain/identities/sessions/tokens.js';
import { CsError } from '../lib/errors.js';
import { publicOrigin } from './session-cookie.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
export const CSRF_HEADER = 'x-csrf-token';

/**
 * A browser sends its cookies with requests that other sites start, so a cookie alone never authorises a
 * write. Two independent checks (OWASP's defence in depth): the request must come from our own origin
 * (`Origin`, else `Sec-Fetch-Site`), and it must carry the session's CSRF token in `X-CSRF-Token`, which a
 * cross-site page cannot read. API-key requests are exempt: a browser never attaches a bearer header on
 * its own.
 */
export function checkCsrf(deps: Deps, request: FastifyRequest, sessionToken: string): void {
  if (SAFE_METHODS.has(request.method)) return;
  checkSameOrigin(deps, request);
  const sent = request.headers[CSRF_HEADER];
  if (typeof sent !== 'string' || !sameSecret(sent, csrfTokenFor(sessionToken))) {
    throw new CsError('forbidden', `a write with a session cookie must send the cs_csrf cookie's value in the X-CSRF-Token header`);
  }
}

/**
 * Refuses a request a browser marks as started by another site. Also used on sign-in (before there is a
 * session), so a hostile page cannot sign a victim in to the attacker's account.
 */
export function checkSameOrigin(deps: Deps, request: FastifyRequest): void {
  const origin = request.headers.origin;
  if (typeof origin === 'string') {
    if (!allowedOrigin(deps, request, origin)) throw new CsError('forbidden', `cross-origin request refused (Origin ${origin})`);
    return;
  }
  const site = request.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') throw new CsError('forbidden', 'cross-site request refused');
}

function allowedOrigin(deps: Deps, request: FastifyRequest, origin: string): boolean {
  if (origin === publicOrigin(deps.config).origin) return true;
  // Without a configured public URL the gateway is reached by whatever host name the person typed
  // (localhost or 127.0.0.1); the target origin is then the request's own Host.
  if (deps.config.server.publicUrl !== undefined) return false;
  try {
    const url = new URL(origin);
    return url.protocol === 'http:' && url.host === request.headers.host;
  } catch {
    return false;
  }
}
