import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { Deps } from '../deps.js';
import type { AgentPrincipal, Principal, UserPrincipal } from '../domain/identities/principal.js';
import { parseInput } from '../domain/validate.js';
import { assertNever, CsError } from '../lib/errors.js';
import { requirePrincipal } from './auth.js';
import { answerWithKeyCheckedAtCommit } from './key-checked-at-commit.js';

export type Method = 'GET' | 'POST';

/**
 * Who may call a route: nobody needs to be signed in (`none`), an agent, a person (any role), an
 * admin, or anyone authenticated. Checked before the handler runs, and the handler's `principal` has
 * the matching type.
 */
export type RouteAuth = 'none' | 'agent' | 'person' | 'admin' | 'any';
export const ROUTE_AUTHS: readonly RouteAuth[] = ['none', 'agent', 'person', 'admin', 'any'];

export type PrincipalFor<A extends RouteAuth> = A extends 'none'
  ? null
  : A extends 'agent'
    ? AgentPrincipal
    : A extends 'person' | 'admin'
      ? UserPrincipal
      : Principal;

/**
 * One entry per endpoint: the same zod schemas validate the request here and
 * describe it in /openapi.json (see openapi.ts). Handlers get parsed input and
 * the authenticated principal; they never touch raw request data.
 */
export interface RouteSpec<Q extends z.ZodType = z.ZodType, P extends z.ZodType = z.ZodType, A extends RouteAuth = RouteAuth> {
  method: Method;
  url: string;
  operationId: string;
  summary: string;
  tags: string[];
  auth: A;
  /** What a caller of the wrong kind is told (403); the route's own words read better than the generic ones. */
  refusal?: string;
  /**
   * A write route agents and reviewers hit on every call: a remembered API key is checked at commit, by the
   * write itself, instead of by a read of the identity epoch before it (http/key-checked-at-commit.ts).
   */
  keyCheckedAtCommit?: true;
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
    principal: PrincipalFor<A>;
    query: z.output<Q>;
    params: z.output<P>;
    body: unknown;
    request: FastifyRequest;
    reply: FastifyReply;
  }) => Promise<unknown>;
}

export function defineRoute<Q extends z.ZodType, P extends z.ZodType, A extends RouteAuth>(spec: RouteSpec<Q, P, A>): RouteSpec {
  return spec as unknown as RouteSpec;
}

/** The route's caller, or the refusal: 401 without valid credentials, 403 for the wrong kind of caller. */
export async function authorize(deps: Deps, request: FastifyRequest, auth: RouteAuth, refusal?: string): Promise<Principal | null> {
  if (auth === 'none') return null;
  const principal = await requirePrincipal(deps, request);
  switch (auth) {
    case 'any':
      return principal;
    case 'agent':
      if (principal.type !== 'agent') throw new CsError('forbidden', refusal ?? 'only an agent may call this');
      return principal;
    case 'person':
      if (principal.type !== 'user') throw new CsError('forbidden', refusal ?? 'only a person may call this; agents cannot');
      return principal;
    case 'admin':
      if (principal.type !== 'user' || principal.role !== 'admin') throw new CsError('forbidden', refusal ?? 'only an admin may call this');
      return principal;
    default:
      return assertNever(auth, 'route auth');
  }
}

export function registerRoutes(app: FastifyInstance, deps: Deps, routes: readonly RouteSpec[]): void {
  for (const spec of routes) {
    app.route({
      method: spec.method,
      url: spec.url,
      handler: async (request, reply) => {
        if (spec.keyCheckedAtCommit) {
          const checkedAtCommit = await answerWithKeyCheckedAtCommit(deps, request, (held) => runRoute(held, spec, request, reply));
          if (checkedAtCommit) return checkedAtCommit.answer;
        }
        return runRoute(deps, spec, request, reply);
      },
    });
  }
}

async function runRoute(deps: Deps, spec: RouteSpec, request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
  const principal = await authorize(deps, request, spec.auth, spec.refusal);
  const query = spec.query ? parseInput(spec.query, request.query ?? {}, 'query string') : {};
  const params = spec.params ? parseInput(spec.params, request.params ?? {}, 'path') : {};
  return spec.handler({ deps, principal, query, params, body: request.body, request, reply });
}
