import { z } from 'zod';
import { ErrorBody } from '../../domain/actions/schemas.js';
import { findUser } from '../../domain/identities/lookup.js';
import { LinkInput, linkIdentity, UnlinkInput, unlinkIdentity } from '../../domain/identities/oidc/link-identity.js';
import { LinkedIdentityView, listLinkedIdentities } from '../../domain/identities/oidc/list-linked-identities.js';
import { UserParams } from '../../domain/identities/schemas.js';
import { parseInput } from '../../domain/validate.js';
import { defineRoute, type RouteSpec } from '../route-spec.js';
import { actorOf } from './admin-people.js';

const err = (description: string) => ({ description, schema: ErrorBody });
const common = { 400: err('Invalid request'), 401: err('Not authenticated'), 403: err('Not an admin') };
const ADMIN_ONLY = 'only an admin may link or unlink identity-provider accounts';

const LinkBody = LinkInput.omit({ email: true });
const Linked = z.object({ email: z.string(), issuer: z.string(), subject: z.string() });

/**
 * Which identity-provider accounts sign in as which person (`countersign users link-sso` over HTTP). Sign-in
 * never matches a person by email, so linking is how an existing person becomes reachable by SSO.
 */
export const adminIdentityRoutes: RouteSpec[] = [
  defineRoute({
    method: 'GET',
    url: '/v1/admin/users/:user/identities',
    operationId: 'adminListLinkedIdentities',
    summary: "A person's linked identity-provider accounts (issuer, subject, last sign-in)",
    tags: ['admin'],
    auth: 'admin',
    refusal: ADMIN_ONLY,
    params: UserParams,
    responses: {
      200: { description: 'Linked accounts', schema: z.object({ items: z.array(LinkedIdentityView) }) },
      ...common,
      404: err('No such person'),
    },
    handler: async ({ deps, params }) => {
      const user = await findUser(deps.db.read, params.user);
      return { items: await listLinkedIdentities(deps.db.read, user.id) };
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/admin/users/:user/identities',
    operationId: 'adminLinkIdentity',
    summary: 'Link an identity-provider account (issuer, subject) to a person ahead of their first sign-in',
    tags: ['admin'],
    auth: 'admin',
    refusal: ADMIN_ONLY,
    params: UserParams,
    body: LinkBody,
    responses: {
      201: { description: 'Linked', schema: Linked },
      ...common,
      404: err('No such person'),
      409: err('That account is already linked to someone'),
    },
    handler: async ({ deps, principal, params, body, reply }) => {
      const user = await findUser(deps.db.read, params.user);
      const linked = await linkIdentity(deps, actorOf(principal), { ...parseInput(LinkBody, body), email: user.email });
      reply.code(201);
      return linked;
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/admin/users/:user/identities/unlink',
    operationId: 'adminUnlinkIdentity',
    summary: 'Unlink one of the person’s identity-provider accounts: it can no longer sign in here',
    tags: ['admin'],
    auth: 'admin',
    refusal: ADMIN_ONLY,
    params: UserParams,
    body: UnlinkInput,
    responses: {
      200: { description: 'Unlinked', schema: Linked },
      ...common,
      404: err('No such person, or that account is not linked to them'),
    },
    handler: async ({ deps, principal, params, body }) => {
      const user = await findUser(deps.db.read, params.user);
      const out = await unlinkIdentity(deps, actorOf(principal), parseInput(UnlinkInput, body), { userId: user.id });
      return { email: user.email, issuer: out.issuer, subject: out.subject };
    },
  }),
];
