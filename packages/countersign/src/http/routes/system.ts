import { sql } from 'kysely';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { ErrorBody } from '../../domain/actions/schemas.js';
import { actingFor } from '../../domain/identities/delegations/list-delegations.js';
import { ActingFor } from '../../domain/identities/delegations/schemas.js';
import { CsError } from '../../lib/errors.js';
import { defineRoute, type RouteSpec } from '../route-spec.js';

const Health = z.object({ status: z.literal('ok') });
const Checks = z
  .object({
    database: z.enum(['ok', 'unavailable']),
    audit_chain: z.string().meta({ description: '"intact", "not verified yet", or "tampered at entry N: …" (see docs/audit.md)' }),
  })
  .meta({ id: 'ReadinessChecks' });
const Ready = z.object({
  status: z.enum(['ok', 'degraded']).meta({ description: '"degraded": serving, but the audit chain is known to be tampered' }),
  database: z.string().meta({ description: 'The dialect: sqlite or postgres' }),
  checks: Checks,
});

/**
 * Not ready only when the database does not answer, or (if the operator chose it with
 * audit.unready_when_tampered) when the chain is tampered. By default a tampered chain is reported and the
 * gateway stays in service: someone who can edit the database can already do anything a gateway could
 * refuse, so taking every gateway out of rotation would add an outage, not protection, and would cut
 * reviewers off from the API they need to investigate.
 */
async function readiness(deps: Deps) {
  let database = 'ok';
  try {
    await sql`select 1`.execute(deps.db.read);
  } catch (err) {
    // The reason goes to the log only: this endpoint needs no key, and driver errors name hosts and users.
    deps.logger.warn({ err }, 'readiness: the database does not answer');
    database = 'unavailable';
  }
  const checks = { database, audit_chain: deps.auditHealth.describe() };
  const tampered = deps.auditHealth.state.kind === 'tampered';
  if (database !== 'ok') throw new CsError('unavailable', 'the database does not answer', { details: { checks } });
  if (tampered && deps.config.audit.unreadyWhenTampered) {
    throw new CsError('unavailable', `the audit chain is tampered (${checks.audit_chain})`, { details: { checks } });
  }
  return { status: tampered ? ('degraded' as const) : ('ok' as const), database: deps.db.caps.dialect, checks };
}

const Me = z
  .object({
    type: z.enum(['user', 'agent']),
    id: z.string(),
    name: z.string(),
    email: z.string().optional(),
    role: z.string().optional(),
    groups: z.array(z.string()).optional(),
    key_prefix: z.string().nullable().meta({ description: 'The API key used, when the caller used one' }),
    credential: z.enum(['api_key', 'session', 'chat', 'email_link']).meta({ description: 'How the caller authenticated' }),
    acting_for: z.array(ActingFor).optional().meta({ description: 'A person: whom they may vote for now (delegations they hold)' }),
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
    summary: 'Readiness: the database answers; the audit chain state is reported',
    tags: ['system'],
    auth: 'none',
    responses: {
      200: { description: 'Ready (status "degraded" while the audit chain is known to be tampered)', schema: Ready },
      503: {
        description: 'Not ready: the database does not answer, or the chain is tampered and audit.unready_when_tampered is set',
        schema: ErrorBody,
      },
    },
    handler: async ({ deps }) => readiness(deps),
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
    summary: 'Who the caller is, and how it authenticated',
    tags: ['system'],
    auth: 'any',
    responses: { 200: { description: 'The caller', schema: Me } },
    handler: async ({ deps, principal }) => {
      const how = {
        key_prefix: principal.credential.kind === 'api_key' ? principal.credential.keyPrefix : null,
        credential: principal.credential.kind,
      };
      return principal.type === 'user'
        ? {
            type: 'user',
            id: principal.id,
            name: principal.name,
            email: principal.email,
            role: principal.role,
            groups: principal.groups,
            ...how,
            acting_for: await actingFor(deps, principal),
          }
        : { type: 'agent', id: principal.id, name: principal.name, ...how };
    },
  }),
];
