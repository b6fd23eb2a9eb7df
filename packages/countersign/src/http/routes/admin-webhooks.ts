import { z } from 'zod';
import { ErrorBody } from '../../domain/actions/schemas.js';
import { createWebhook } from '../../notify/webhooks/create-endpoint.js';
import { listWebhookDeliveries } from '../../notify/webhooks/list-deliveries.js';
import { listWebhooks } from '../../notify/webhooks/list-endpoints.js';
import { rotateWebhookSecret } from '../../notify/webhooks/rotate-secret.js';
import {
  CreateWebhookBody,
  DeliveryList,
  DeliveryView,
  DisableWebhookBody,
  ListDeliveriesQuery,
  RotateSecretBody,
  WebhookIdParams,
  WebhookView,
  WebhookWithSecret,
} from '../../notify/webhooks/schemas.js';
import { disableWebhook, enableWebhook } from '../../notify/webhooks/set-enabled.js';
import { testWebhook } from '../../notify/webhooks/test-endpoint.js';
import { defineRoute, type RouteSpec } from '../route-spec.js';

const err = (description: string) => ({ description, schema: ErrorBody });
const common = { 400: err('Invalid request'), 401: err('Missing or bad API key'), 403: err('Not an admin') };
const one = { ...common, 404: err('No such endpoint') };

/** Outbound webhook endpoints (docs/channels.md): admins only. */
export const adminWebhookRoutes: RouteSpec[] = [
  defineRoute({
    method: 'POST',
    url: '/v1/admin/webhooks',
    operationId: 'createWebhook',
    summary: 'Add a webhook endpoint; its signing secret is in this answer only (admins; audited)',
    tags: ['admin'],
    auth: 'admin',
    body: CreateWebhookBody,
    responses: { 201: { description: 'The endpoint and its secret', schema: WebhookWithSecret }, ...common },
    handler: async ({ deps, principal, body, reply }) => {
      reply.code(201);
      return createWebhook(deps, principal, body);
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/admin/webhooks',
    operationId: 'listWebhooks',
    summary: 'Webhook endpoints (admins; never their secrets)',
    tags: ['admin'],
    auth: 'admin',
    responses: { 200: { description: 'Endpoints', schema: z.object({ items: z.array(WebhookView) }) }, ...common },
    handler: async ({ deps, principal }) => ({ items: await listWebhooks(deps, principal) }),
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/admin/webhooks/:id/disable',
    operationId: 'disableWebhook',
    summary: 'Stop deliveries to an endpoint (admins; audited)',
    tags: ['admin'],
    auth: 'admin',
    params: WebhookIdParams,
    body: DisableWebhookBody,
    responses: { 200: { description: 'The endpoint', schema: WebhookView }, ...one, 409: err('Already disabled') },
    handler: async ({ deps, principal, params, body }) => disableWebhook(deps, principal, params.id, body ?? {}),
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/admin/webhooks/:id/enable',
    operationId: 'enableWebhook',
    summary: 'Resume deliveries to an endpoint, from the next event (admins; audited)',
    tags: ['admin'],
    auth: 'admin',
    params: WebhookIdParams,
    responses: { 200: { description: 'The endpoint', schema: WebhookView }, ...one, 409: err('Already enabled') },
    handler: async ({ deps, principal, params }) => enableWebhook(deps, principal, params.id),
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/admin/webhooks/:id/rotate-secret',
    operationId: 'rotateWebhookSecret',
    summary: 'New signing secret (in this answer only); the old one keeps signing for the overlap (admins; audited)',
    tags: ['admin'],
    auth: 'admin',
    params: WebhookIdParams,
    body: RotateSecretBody,
    responses: {
      200: { description: 'The endpoint and its new secret', schema: WebhookWithSecret },
      ...one,
      409: err('Changed meanwhile'),
    },
    handler: async ({ deps, principal, params, body }) => rotateWebhookSecret(deps, principal, params.id, body ?? {}),
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/admin/webhooks/:id/test',
    operationId: 'testWebhook',
    summary: 'Send a signed webhook.test message now and answer with its delivery (admins; audited)',
    tags: ['admin'],
    auth: 'admin',
    params: WebhookIdParams,
    responses: { 200: { description: 'The delivery', schema: DeliveryView }, ...one, 409: err('The endpoint is disabled') },
    handler: async ({ deps, principal, params }) => testWebhook(deps, principal, params.id),
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/admin/webhooks/:id/deliveries',
    operationId: 'listWebhookDeliveries',
    summary: "An endpoint's delivery log, newest first, one entry per attempt (admins)",
    tags: ['admin'],
    auth: 'admin',
    params: WebhookIdParams,
    query: ListDeliveriesQuery,
    responses: { 200: { description: 'A page of deliveries', schema: DeliveryList }, ...one },
    handler: async ({ deps, principal, params, query }) =>
      listWebhookDeliveries(deps, principal, params.id, {
        cursor: query.cursor,
        limit: query.limit === undefined ? undefined : Number(query.limit),
      }),
  }),
];
