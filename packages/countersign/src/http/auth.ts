import type { FastifyRequest } from 'fastify';
import type { Deps } from '../deps.js';
import { authenticate } from '../domain/identities/authenticate.js';
import type { Principal } from '../domain/identities/principal.js';
import { CsError } from '../lib/errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

export async function requirePrincipal(deps: Deps, request: FastifyRequest): Promise<Principal> {
  if (request.principal) return request.principal;
  const token = bearerToken(request);
  if (!token) throw new CsError('unauthenticated', 'send an API key as "Authorization: Bearer cs_…"');
  request.principal = await authenticate(deps.db.read, token);
  return request.principal;
}
