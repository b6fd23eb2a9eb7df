import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/schema.js';
import type { Deps } from '../deps.js';
import { publicOriginOf } from '../domain/identities/links/origin.js';
import { csrfTokenFor } from '../domain/identities/sessions/csrf.js';

export const SESSION_COOKIE = 'cs_session';
/** Readable by the page's script, which echoes it in `X-CSRF-Token` on writes (see http/csrf.ts). */
export const CSRF_COOKIE = 'cs_csrf';

export const publicOrigin = publicOriginOf;

/**
 * Browsers keep a `Secure` cookie only over HTTPS, except on localhost; a gateway tried out on
 * http://127.0.0.1 must still be able to sign in, and anything else must be HTTPS.
 */
export function cookiesAreSecure(config: Config): boolean {
  const url = publicOrigin(config);
  if (url.protocol === 'https:') return true;
  const h = url.hostname;
  const localhost = h === 'localhost' || h.endsWith('.localhost') || h === '[::1]' || /^127(\.\d{1,3}){3}$/.test(h);
  return !localhost;
}

function serialize(name: string, value: string, attrs: string[]): string {
  return [`${name}=${value}`, ...attrs].join('; ');
}

function attributes(deps: Deps, maxAgeSeconds: number, httpOnly: boolean): string[] {
  const attrs = ['Path=/', `Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`, 'SameSite=Lax'];
  if (httpOnly) attrs.push('HttpOnly');
  if (cookiesAreSecure(deps.config)) attrs.push('Secure');
  return attrs;
}

/**
 * The session cookie (`HttpOnly`: no script reads it) and its CSRF companion (script-readable, derived
 * from the session token so nothing more is stored). Both expire with the session's absolute time-out.
 */
export function setSessionCookie(reply: FastifyReply, deps: Deps, token: string, expiresAt: number): void {
  const maxAge = (expiresAt - deps.clock.now()) / 1000;
  reply.header('set-cookie', [
    serialize(SESSION_COOKIE, token, attributes(deps, maxAge, true)),
    serialize(CSRF_COOKIE, csrfTokenFor(token), attributes(deps, maxAge, false)),
  ]);
  // A response that sets a session must never be stored by a shared cache.
  reply.header('cache-control', 'no-store');
}

export function clearSessionCookie(reply: FastifyReply, deps: Deps): void {
  reply.header('set-cookie', [
    serialize(SESSION_COOKIE, '', attributes(deps, 0, true)),
    serialize(CSRF_COOKIE, '', attributes(deps, 0, false)),
  ]);
  reply.header('cache-control', 'no-store');
}

/** One cookie's value from the request, or undefined. Cookie values here are base64url, so no decoding. */
export function readCookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
