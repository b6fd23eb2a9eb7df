import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { Deps } from '../deps.js';
import type { Principal } from '../domain/identities/principal.js';
import { parseInput } from '../domain/validate.js';
import { requirePrincipal } from './auth.js';

export type Method = 'GET' | 'POST';

/**
 * One entry per endpoint: the same zod schemas validate the request here and
 * describe it in /openapi.json (see openapi.ts). Handlers get parsed input and
 * the authenticated principal; they never touch raw request data.
 */
export interface RouteSpec<Q extends z.ZodType = z.ZodType, P extends z.ZodType = z.ZodType> {
  method: Method;
  url: string;
  operationId: string;
  summary: string;
  tags: string[];
  auth: 'any' | 'none';
  query?: Q;
  params?: P;
  /** Body schema for the document; the domain function validates the body itself. */
  body?: z.ZodType;
  headers?: Record<string, { description: string; required?: boolean }>;
  /** `contentType`: a text body; with a schema too, the alternative to JSON that a client selects with Accept. */
  /** `itemSchema`: each message of a stream (OpenAPI 3.2's keyword for `text/event-stream`). */
  responses: Record<number, { description: string; schema?: z.ZodType; contentType?: string; itemSchema?: z.ZodType }>;
  handler: (ctx: {
    deps: Deps;
    principal: Principal;
    query: z.output<Q>;
    params: z.output<P>;
    body: unknown;
    request: FastifyRequest;
    reply: FastifyReply;
  }) => Promise<unknown>;
}

export function defineRoute<Q extends z.ZodType, P extends z.ZodType>(spec: RouteSpec<Q, P>): RouteSpec {
  return spec as unknown as RouteSpec;
}

export function registerRoutes(app: FastifyInstance, deps: Deps, routes: readonly RouteSpec[]): void {
  for (const spec of routes) {
    app.route({
      method: spec.method,
      url: spec.url,
      handler: async (request, reply) => {
        const principal = spec.auth === 'none' ? (null as unknown as Principal) : await requirePrincipal(deps, request);
        const query = spec.query ? parseInput(spec.query, request.query ?? {}, 'query string') : {};
        const params = spec.params ? parseInput(spec.params, request.params ?? {}, 'path') : {};
        return spec.handler({ deps, principal, query, params, body: request.body, request, reply });
      },
    });
  }
}
