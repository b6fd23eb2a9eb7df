import { z } from 'zod';
import { ErrorBody } from '../../domain/actions/schemas.js';
import { createDelegation } from '../../domain/identities/delegations/create-delegation.js';
import { listAllDelegations, listMyDelegations } from '../../domain/identities/delegations/list-delegations.js';
import { revokeDelegation } from '../../domain/identities/delegations/revoke-delegation.js';
import {
  AdminCreateDelegationBody,
  CreateDelegationBody,
  DelegationIdParams,
  DelegationView,
  MyDelegations,
} from '../../domain/identities/delegations/schemas.js';
import { defineRoute, type RouteSpec } from '../route-spec.js';

const err = (description: string) => ({ description, schema: ErrorBody });
const AGENTS = 'agents have no vote to delegate; delegation is between people';
const ADMIN_ONLY = 'only an admin may create or list delegations for other people; POST /v1/me/delegations delegates your own vote';
const AdminListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).optional().meta({ description: 'At most this many, newest first (default 100)' }),
});

/** Delegation (out of office): a person names a delegate who may vote for them for a period. */
export const delegationRoutes: RouteSpec[] = [
  defineRoute({
    method: 'GET',
    url: '/v1/me/delegations',
    operationId: 'listMyDelegations',
    summary: 'Delegations of my vote and the ones I hold (every state, newest first), and whom I may vote for now',
    tags: ['delegations'],
    auth: 'person',
    refusal: AGENTS,
    responses: { 200: { description: 'Delegations', schema: MyDelegations }, 401: err('Not authenticated'), 403: err('An agent') },
    handler: async ({ deps, principal }) => listMyDelegations(deps, principal),
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/me/delegations',
    operationId: 'createMyDelegation',
    summary: 'Name a delegate who may vote for me for a period (out of office)',
    tags: ['delegations'],
    auth: 'person',
    refusal: AGENTS,
    body: CreateDelegationBody,
    responses: {
      201: { description: 'Created', schema: DelegationView },
      400: err('Invalid request: a bad period, yourself, a viewer, or a field this route does not take (delegator)'),
      401: err('Not authenticated'),
      403: err('An agent; or cross-site, or without the CSRF token'),
      404: err('No such person'),
      409: err('A disabled person, or a delegation to the same person overlapping that period'),
    },
    handler: async ({ deps, principal, body, reply }) => {
      const view = await createDelegation(deps, principal, body, 'self');
      reply.code(201);
      return view;
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/me/delegations/:id/revoke',
    operationId: 'revokeDelegation',
    summary: 'End a delegation early (the person who delegated, or an admin); effective at once',
    tags: ['delegations'],
    auth: 'person',
    refusal: AGENTS,
    params: DelegationIdParams,
    responses: {
      200: { description: 'Revoked', schema: DelegationView },
      400: err('Invalid id'),
      401: err('Not authenticated'),
      403: err('The delegate (only the delegator or an admin ends it), an agent; or cross-site, or without the CSRF token'),
      404: err('No such delegation of yours'),
      409: err('Already revoked or ended'),
    },
    handler: async ({ deps, principal, params }) => revokeDelegation(deps, principal, params.id),
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/admin/delegations',
    operationId: 'adminListDelegations',
    summary: 'Every delegation, newest first',
    tags: ['admin'],
    auth: 'admin',
    refusal: ADMIN_ONLY,
    query: AdminListQuery,
    responses: {
      200: { description: 'Delegations', schema: z.object({ items: z.array(DelegationView) }) },
      400: err('Invalid query'),
      401: err('Not authenticated'),
      403: err('Not an admin'),
    },
    handler: async ({ deps, query }) => ({ items: await listAllDelegations(deps, query.limit ?? 100) }),
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/admin/delegations',
    operationId: 'adminCreateDelegation',
    summary: 'Delegate a person’s vote for them (e.g. someone already away)',
    tags: ['admin'],
    auth: 'admin',
    refusal: ADMIN_ONLY,
    body: AdminCreateDelegationBody,
    responses: {
      201: { description: 'Created', schema: DelegationView },
      400: err('Invalid request'),
      401: err('Not authenticated'),
      403: err('Not an admin'),
      404: err('No such person'),
      409: err('A disabled person, or a delegation to the same person overlapping that period'),
    },
    handler: async ({ deps, principal, body, reply }) => {
      const view = await createDelegation(deps, principal, body, 'admin');
      reply.code(201);
      return view;
    },
  }),
];
