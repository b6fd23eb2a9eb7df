import { z } from 'zod';
import { ErrorBody } from '../../domain/actions/schemas.js';
import { listConsumers } from '../../events/consumers/list-consumers.js';
import { listDeadLetters } from '../../events/consumers/list-dead-letters.js';
import { replayDeadLetter } from '../../events/consumers/replay-dead-letter.js';
import { ConsumerView, DeadLetterIdParams, DeadLetterList, DeadLetterView, ListDeadLettersQuery } from '../../events/consumers/schemas.js';
import { defineRoute, type RouteSpec } from '../route-spec.js';

const err = (description: string) => ({ description, schema: ErrorBody });
const common = { 400: err('Invalid request'), 401: err('Missing or bad API key'), 403: err('Not an admin') };

export const adminEventRoutes: RouteSpec[] = [
  defineRoute({
    method: 'GET',
    url: '/v1/admin/consumers',
    operationId: 'listEventConsumers',
    summary: 'Durable event consumers: cursor, head, lag, the node holding each (admins)',
    tags: ['admin'],
    auth: 'admin',
    responses: { 200: { description: 'Consumers', schema: z.object({ items: z.array(ConsumerView) }) }, ...common },
    handler: async ({ deps, principal }) => ({ items: await listConsumers(deps, principal) }),
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/admin/dead-letters',
    operationId: 'listDeadLetters',
    summary: 'Events a consumer gave up on, oldest first (admins; replayed ones with all=true)',
    tags: ['admin'],
    auth: 'admin',
    query: ListDeadLettersQuery,
    responses: { 200: { description: 'A page of dead letters', schema: DeadLetterList }, ...common },
    handler: async ({ deps, principal, query }) =>
      listDeadLetters(deps, principal, {
        consumer: query.consumer,
        all: query.all === 'true',
        cursor: query.cursor,
        limit: query.limit === undefined ? undefined : Number(query.limit),
      }),
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/admin/dead-letters/:id/replay',
    operationId: 'replayDeadLetter',
    summary: 'Deliver a dead-lettered event to its consumer again (admins; audited; once per entry)',
    tags: ['admin'],
    auth: 'admin',
    params: DeadLetterIdParams,
    responses: {
      200: { description: 'The entry, marked replayed', schema: DeadLetterView },
      ...common,
      404: err('No such dead letter'),
      409: err('Already replayed'),
    },
    handler: async ({ deps, principal, params }) => replayDeadLetter(deps, principal, params.id),
  }),
];
