import { ErrorBody } from '../../domain/actions/schemas.js';
import { listDeliveries } from '../../notify/list-deliveries.js';
import { DeliveryList, ListDeliveriesQuery } from '../../notify/schemas.js';
import { defineRoute, type RouteSpec } from '../route-spec.js';

const err = (description: string) => ({ description, schema: ErrorBody });

export const adminNotificationRoutes: RouteSpec[] = [
  defineRoute({
    method: 'GET',
    url: '/v1/admin/deliveries',
    operationId: 'listNotificationDeliveries',
    summary: 'Notification delivery records (one per event, channel and recipient), oldest first (admins)',
    tags: ['admin'],
    auth: 'admin',
    query: ListDeliveriesQuery,
    responses: {
      200: { description: 'A page of deliveries', schema: DeliveryList },
      400: err('Invalid request'),
      401: err('Missing or bad API key'),
      403: err('Not an admin'),
    },
    handler: async ({ deps, principal, query }) =>
      listDeliveries(deps, principal, {
        action: query.action,
        status: query.status,
        channel: query.channel,
        cursor: query.cursor,
        limit: query.limit === undefined ? undefined : Number(query.limit),
      }),
  }),
];
