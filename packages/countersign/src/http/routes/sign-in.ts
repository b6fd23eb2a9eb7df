import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { ErrorBody } from '../../domain/actions/schemas.js';
import { completeSetup, SetupBody } from '../../domain/identities/links/complete-setup.js';
import { ResetPasswordBody, resetPassword } from '../../domain/identities/links/reset-password.js';
import { finishPasskeySignIn } from '../../domain/identities/passkeys/finish-passkey-sign-in.js';
import { PasskeyRequired, PasskeySignInBody } from '../../domain/identities/passkeys/schemas.js';
import { type PasswordSignInResult, SignInBody, signInWithPassword } from '../../domain/identities/passwords/sign-in.js';
import { csrfTokenFor } from '../../domain/identities/sessions/csrf.js';
import { revokeSession } from '../../domain/identities/sessions/revoke-session.js';
import { SignedIn } from '../../domain/identities/sessions/schemas.js';
import { CsError } from '../../lib/errors.js';
import { checkSameOrigin } from '../csrf.js';
import { defineRoute, type RouteSpec } from '../route-spec.js';
import { clearSessionCookie, setSessionCookie } from '../session-cookie.js';

const err = (description: string) => ({ description, schema: ErrorBody });

function context(request: FastifyRequest): { ip: string; userAgent: string | null } {
  const ua = request.headers['user-agent'];
  return { ip: request.ip, userAgent: typeof ua === 'string' ? ua : null };
}

/** Sets the cookies and answers what a page needs next (its CSRF token, when the session ends). */
function signedIn(deps: Deps, reply: FastifyReply, s: { token: string; expiresAt: number; userId: string; email: string }) {
  setSessionCookie(reply, deps, s.token, s.expiresAt);
  return { user_id: s.userId, email: s.email, expires_at: new Date(s.expiresAt).toISOString(), csrf_token: csrfTokenFor(s.token) };
}

/** A person with a passkey: no session from the password (or a reset link) alone; the answer starts the passkey step. */
function signedInOrPasskeyStep(deps: Deps, reply: FastifyReply, out: PasswordSignInResult) {
  if (out.kind === 'signed_in') return signedIn(deps, reply, out);
  reply.code(202).header('cache-control', 'no-store');
  return {
    passkey_required: true,
    pending_token: out.pendingToken,
    expires_at: new Date(out.expiresAt).toISOString(),
    options: out.options,
  };
}

const passkeyStepResponse = {
  description: 'The person has a passkey: no session yet; finish with the passkey at POST /v1/auth/login/passkey',
  schema: PasskeyRequired,
};

const signInResponses = {
  200: { description: 'Signed in: the session cookie (cs_session) and its CSRF cookie (cs_csrf) are set', schema: SignedIn },
  400: err('Invalid request (a password too short says so)'),
  401: err('Wrong email or password, or an unknown, used or expired link'),
  403: err('Sent from another site (Origin / Sec-Fetch-Site)'),
};

export const signInRoutes: RouteSpec[] = [
  defineRoute({
    method: 'POST',
    url: '/v1/auth/login',
    operationId: 'signIn',
    summary: 'Sign in with email and password; sets the session cookie',
    tags: ['auth'],
    auth: 'none',
    body: SignInBody,
    responses: {
      ...signInResponses,
      202: passkeyStepResponse,
      429: err('Too many failed sign-ins for this account or address; see Retry-After'),
    },
    handler: async ({ deps, request, reply, body }) => {
      checkSameOrigin(deps, request);
      return signedInOrPasskeyStep(deps, reply, await signInWithPassword(deps, body, context(request)));
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/auth/login/passkey',
    operationId: 'signInWithPasskey',
    summary: "Second step of a sign-in: the pending sign-in's token and the passkey's assertion; sets the session cookie",
    tags: ['auth'],
    auth: 'none',
    body: PasskeySignInBody,
    responses: {
      ...signInResponses,
      401: err('The passkey was not accepted, or the pending sign-in is used, expired or unknown (enter the password again)'),
      429: err('Too many failed sign-ins for this account or address; see Retry-After'),
    },
    handler: async ({ deps, request, reply, body }) => {
      checkSameOrigin(deps, request);
      return signedIn(deps, reply, await finishPasskeySignIn(deps, body, context(request)));
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/auth/setup',
    operationId: 'completeSetup',
    summary: 'First run: redeem the setup link `countersign serve` printed; become the first admin with a password',
    tags: ['auth'],
    auth: 'none',
    body: SetupBody,
    responses: { ...signInResponses, 409: err('Setup is already done') },
    handler: async ({ deps, request, reply, body }) => {
      checkSameOrigin(deps, request);
      return signedIn(deps, reply, await completeSetup(deps, body, context(request)));
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/auth/reset-password',
    operationId: 'resetPassword',
    summary: "Redeem an admin's password reset link: set a new password, end the other sessions, sign in",
    tags: ['auth'],
    auth: 'none',
    body: ResetPasswordBody,
    responses: { ...signInResponses, 202: passkeyStepResponse },
    handler: async ({ deps, request, reply, body }) => {
      checkSameOrigin(deps, request);
      return signedInOrPasskeyStep(deps, reply, await resetPassword(deps, body, context(request)));
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/auth/logout',
    operationId: 'signOut',
    summary: 'End the browser session this request was made with, and clear its cookies',
    tags: ['auth'],
    auth: 'person',
    responses: {
      200: { description: 'Signed out', schema: z.object({ id: z.string() }) },
      400: err('Not a browser session (API keys are revoked, not signed out)'),
      401: err('No session'),
      403: err('Cross-site, or without the CSRF token'),
    },
    handler: async ({ deps, principal, reply }) => {
      const c = principal.credential;
      if (c.kind !== 'session') throw new CsError('invalid_request', 'sign-out ends a browser session; an API key is revoked instead');
      const out = await revokeSession(deps, principal, c.sessionId, 'logout');
      clearSessionCookie(reply, deps);
      return out;
    },
  }),
];
