import { sql } from 'kysely';
import { z } from 'zod';
import { defineRoute, type RouteSpec } from '../route-spec.js';

const Health = z.object({ status: z.literal('ok') });
const Ready = z.object({ status: z.enum(['ok', 'unavailable']), database: z.string() });
const Me = z
  .object({
    type: z.enum(['user', 'agent']),
    id: z.string(),
    name: z.string(),
    email: z.string().optional(),
    role: z.string().optional(),
    groups: z.array(z.string()).optional(),
    key_prefix: z.string(),
  })
  .meta({ id: 'Principal' });

export const systemRoutes: RouteSpec[] = [
  defineRoute({
    method: 'GET',
    url: '/healthz',
    operationId: 'health',
    summary: 'Liveness: the process is serving',
    tags: ['system'],
    auth: 'none',
    responses: { 200: { description: 'Alive', schema: Health } },
    handler: async () => ({ status: 'ok' }),
  }),
  defineRoute({
    method: 'GET',
    url: '/readyz',
    operationId: 'ready',
    summary: 'Readiness: the database answers',
    tags: ['system'],
    auth: 'none',
    responses: { 200: { description: 'Ready', schema: Ready }, 503: { description: 'Not ready', schema: Ready } },
    handler: async ({ deps, reply }) => {
      try {
        await sql`select 1`.execute(deps.db.read);
        return { status: 'ok', database: deps.db.caps.dialect };
      } catch {
        reply.code(503);
        return { status: 'unavailable', database: deps.db.caps.dialect };
      }
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/metrics',
    operationId: 'metrics',
    summary: 'Prometheus metrics',
    tags: ['system'],
    auth: 'none',
    responses: { 200: { description: 'Metrics in the Prometheus text format', contentType: 'text/plain' } },
    handler: async ({ deps, reply }) => {
      reply.header('content-type', deps.metrics.registry.contentType);
      return deps.metrics.registry.metrics();
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/me',
    operationId: 'whoami',
    summary: 'The principal the API key belongs to',
    tags: ['system'],
    auth: 'any',
    responses: { 200: { description: 'The caller', schema: Me } },
    handler: async ({ principal }) =>
      principal.type === 'user'
        ? {
            type: 'user',
            id: principal.id,
            name: principal.name,
            email: principal.email,
            role: principal.role,
            groups: principal.groups,
            key_prefix: principal.keyPrefix,
          }
        : { type: 'agent', id: principal.id, name: principal.name, key_prefix: principal.keyPrefix },
  }),
];
