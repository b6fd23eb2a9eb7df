import { z } from 'zod';
import { ErrorBody } from '../../domain/actions/schemas.js';
import { issueResetLink } from '../../domain/identities/links/issue-reset-link.js';
import { publicOriginOf } from '../../domain/identities/links/origin.js';
import { listMySessions } from '../../domain/identities/sessions/list-my-sessions.js';
import { revokeSession } from '../../domain/identities/sessions/revoke-session.js';
import { SessionIdParams, SessionView } from '../../domain/identities/sessions/schemas.js';
import { parseInput } from '../../domain/validate.js';
import { defineRoute, type RouteSpec } from '../route-spec.js';
import { clearSessionCookie } from '../session-cookie.js';

const err = (description: string) => ({ description, schema: ErrorBody });
const ResetLinkBody = z.strictObject({ email: z.email().max(320) });

export const sessionRoutes: RouteSpec[] = [
  defineRoute({
    method: 'GET',
    url: '/v1/me/sessions',
    operationId: 'listMySessions',
    summary: "The caller's browser sessions that still work, newest first",
    tags: ['auth'],
    auth: 'person',
    responses: {
      200: { description: 'Sessions', schema: z.object({ items: z.array(SessionView) }) },
      401: err('Not signed in'),
      403: err('Agents have no sessions'),
    },
    handler: async ({ deps, principal }) => ({ items: await listMySessions(deps, principal) }),
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/me/sessions/:id/revoke',
    operationId: 'revokeMySession',
    summary: 'End one of your sessions (its open event streams end at once)',
    tags: ['auth'],
    auth: 'person',
    params: SessionIdParams,
    responses: {
      200: { description: 'Ended', schema: z.object({ id: z.string() }) },
      400: err('Invalid id'),
      401: err('Not signed in'),
      403: err('Agents have no sessions; or cross-site, or without the CSRF token'),
      404: err('No such session of yours'),
      409: err('Already ended'),
    },
    handler: async ({ deps, principal, params, reply }) => {
      const out = await revokeSession(deps, principal, params.id, 'revoked');
      const c = principal.credential;
      if (c.kind === 'session' && c.sessionId === params.id) clearSessionCookie(reply, deps);
      return out;
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/admin/password-reset-links',
    operationId: 'issuePasswordResetLink',
    summary: 'Issue a one-time link that lets a person choose a new password (hand it over; it works once, briefly)',
    tags: ['admin'],
    auth: 'admin',
    body: ResetLinkBody,
    responses: {
      200: { description: 'The link', schema: z.object({ url: z.string(), expires_at: z.string(), email: z.string() }) },
      400: err('Invalid request'),
      401: err('Not authenticated'),
      403: err('Not an admin'),
      404: err('No such person'),
      409: err('The person is disabled'),
    },
    handler: async ({ deps, principal, body, request }) => {
      const input = parseInput(ResetLinkBody, body);
      // Behind no configured public URL, the link uses the address this admin reached the gateway at.
      const origin = deps.config.server.publicUrl ? publicOriginOf(deps.config) : new URL(`${request.protocol}://${request.host}`);
      const link = await issueResetLink(deps, { type: 'user', id: principal.id }, input.email, origin);
      return { url: link.url, expires_at: new Date(link.expiresAt).toISOString(), email: link.email };
    },
  }),
];
