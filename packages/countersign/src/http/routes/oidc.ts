import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { ErrorBody } from '../../domain/actions/schemas.js';
import { finishOidcLogin } from '../../domain/identities/oidc/finish-login.js';
import type { OidcRelyingParty } from '../../domain/identities/oidc/relying-party.js';
import { startOidcLogin } from '../../domain/identities/oidc/start-login.js';
import { CsError } from '../../lib/errors.js';
import { safeReturnTo } from '../../lib/return-to.js';
import { defineRoute, type RouteSpec } from '../route-spec.js';
import { cookiesAreSecure, readCookie, setSessionCookie } from '../session-cookie.js';

/** Binds a sign-in to the browser that started it (the state, compared at the callback). */
export const OIDC_STATE_COOKIE = 'cs_oidc_state';
const COOKIE_PATH = '/v1/auth/oidc';

const err = (description: string) => ({ description, schema: ErrorBody });

const LoginQuery = z.strictObject({
  return_to: z.string().max(2048).optional().meta({ description: 'A path on this gateway to go to afterwards (default /)' }),
  max_age: z
    .string()
    .regex(/^\d{1,7}$/, 'max_age is whole seconds')
    .optional()
    .meta({ description: 'Ask the IdP to re-authenticate if the last sign-in there is older (seconds): step-up' }),
});

// What an authorization response carries (RFC 6749 §4.1.2, RFC 9207 `iss`); the whole query string is
// handed to openid-client as received, so this only documents and bounds it.
const CallbackQuery = z.looseObject({
  code: z.string().max(4096).optional(),
  state: z.string().max(512).optional(),
  iss: z.string().max(2048).optional(),
  error: z.string().max(256).optional(),
  error_description: z.string().max(2048).optional(),
});

function relyingParty(deps: Deps): OidcRelyingParty {
  if (!deps.oidc) throw new CsError('not_found', 'single sign-on is not configured on this gateway (auth.oidc)');
  return deps.oidc;
}

function stateCookie(deps: Deps, value: string, maxAgeSeconds: number): string {
  const attrs = [
    `${OIDC_STATE_COOKIE}=${value}`,
    `Path=${COOKIE_PATH}`,
    `Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`,
    'HttpOnly',
    'SameSite=Lax',
  ];
  if (cookiesAreSecure(deps.config)) attrs.push('Secure');
  return attrs.join('; ');
}

/** Adds a cookie to those the reply already sets (setSessionCookie sets its own pair). */
function appendCookie(reply: FastifyReply, cookie: string): void {
  const current = reply.getHeader('set-cookie');
  const list = current === undefined ? [] : Array.isArray(current) ? current.map(String) : [String(current)];
  reply.header('set-cookie', [...list, cookie]);
}

function queryString(request: FastifyRequest): string {
  const at = request.url.indexOf('?');
  return at < 0 ? '' : request.url.slice(at);
}

export const oidcRoutes: RouteSpec[] = [
  defineRoute({
    method: 'GET',
    url: '/v1/auth/oidc/login',
    operationId: 'oidcLogin',
    summary: "Sign in with the organisation's identity provider (redirects the browser there)",
    tags: ['auth'],
    auth: 'none',
    query: LoginQuery,
    responses: {
      302: { description: "To the IdP's authorization endpoint; sets the cs_oidc_state cookie" },
      400: err('Invalid return_to or max_age'),
      404: err('Single sign-on is not configured'),
      429: err('Too many sign-ins in progress'),
      503: err('The IdP cannot be reached'),
    },
    handler: async ({ deps, query, reply }) => {
      const rp = relyingParty(deps);
      const returnTo = safeReturnTo(query.return_to);
      const started = await startOidcLogin(deps, rp, {
        returnTo,
        maxAgeSeconds: query.max_age === undefined ? undefined : Number(query.max_age),
      });
      appendCookie(reply, stateCookie(deps, started.state, (started.expiresAt - deps.clock.now()) / 1000));
      reply.header('cache-control', 'no-store');
      return reply.redirect(started.authorizationUrl, 302);
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/auth/oidc/callback',
    operationId: 'oidcCallback',
    summary: 'Where the identity provider sends the browser back: opens a session and goes to return_to',
    tags: ['auth'],
    auth: 'none',
    query: CallbackQuery,
    responses: {
      302: { description: 'Signed in: to return_to, with the session cookie' },
      400: err('Unknown, expired, replayed or foreign state'),
      401: err('The IdP refused, or its ID token did not validate'),
      403: err('No person is linked to this IdP account, or the account is disabled'),
      404: err('Single sign-on is not configured'),
      503: err('The IdP cannot be reached'),
    },
    handler: async ({ deps, request, reply }) => {
      const rp = relyingParty(deps);
      // Whatever happens, this browser's attempt is over.
      appendCookie(reply, stateCookie(deps, '', 0));
      reply.header('cache-control', 'no-store');
      const done = await finishOidcLogin(deps, rp, {
        query: queryString(request),
        browserState: readCookie(request, OIDC_STATE_COOKIE),
        client: { userAgent: request.headers['user-agent'] ?? null, ip: request.ip ?? null },
      });
      setSessionCookie(reply, deps, done.session.token, done.session.expiresAt);
      appendCookie(reply, stateCookie(deps, '', 0));
      return reply.redirect(done.returnTo, 302);
    },
  }),
];
