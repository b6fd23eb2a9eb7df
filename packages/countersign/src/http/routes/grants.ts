import { z } from 'zod';
import { ErrorBody } from '../../domain/actions/schemas.js';
import { listGrants } from '../../domain/grants/list-grants.js';
import { revokeGrant } from '../../domain/grants/revoke-grant.js';
import { GrantIdParams, GrantView, ListGrantsQuery, RevokeGrantBody } from '../../domain/grants/schemas.js';
import { defineRoute, type RouteSpec } from '../route-spec.js';

const err = (description: string) => ({ description, schema: ErrorBody });
const common = { 400: err('Invalid request'), 401: err('Missing or bad API key') };

export const grantRoutes: RouteSpec[] = [
  defineRoute({
    method: 'GET',
    url: '/v1/grants',
    operationId: 'listGrants',
    summary: 'Standing grants, newest first (agents see the ones that cover them)',
    tags: ['grants'],
    auth: 'any',
    query: ListGrantsQuery,
    responses: { 200: { description: 'Grants', schema: z.object({ items: z.array(GrantView) }) }, ...common, 404: err('No such agent') },
    handler: async ({ deps, principal, query }) => ({
      items: await listGrants(deps, principal, {
        agent: query.agent,
        active: query.active === undefined ? undefined : query.active === 'true',
      }),
    }),
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/grants/:id/revoke',
    operationId: 'revokeGrant',
    summary: 'End a standing grant now (its creator or an admin)',
    tags: ['grants'],
    auth: 'person',
    refusal: 'only people can revoke grants',
    params: GrantIdParams,
    body: RevokeGrantBody,
    responses: {
      200: { description: 'The revoked grant', schema: GrantView },
      ...common,
      403: err('Not the creator or an admin'),
      404: err('No such grant'),
      409: err('Already revoked'),
    },
    handler: async ({ deps, principal, params, body }) => revokeGrant(deps, principal, params.id, body),
  }),
];
