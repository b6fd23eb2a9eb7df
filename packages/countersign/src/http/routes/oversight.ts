import { Readable } from 'node:stream';
import { ErrorBody } from '../../domain/actions/schemas.js';
import { AuditChainStatus, auditChainStatus } from '../../domain/audit/chain-status.js';
import { exportAudit } from '../../domain/audit/export-audit.js';
import { AuditVerification, verifyOnRequest } from '../../domain/audit/verify-on-request.js';
import { getStats } from '../../domain/stats/get-stats.js';
import { Stats, StatsQuery } from '../../domain/stats/schemas.js';
import { defineRoute, type RouteSpec } from '../route-spec.js';

/** Overseeing: the dashboard's figures and the audit chain's status, verification and export (the console's /dashboard and /audit). */

const err = (description: string) => ({ description, schema: ErrorBody });
const denied = { 401: err('Missing or bad credentials'), 403: err('Agents cannot call this') };

export const oversightRoutes: RouteSpec[] = [
  defineRoute({
    method: 'GET',
    url: '/v1/stats',
    operationId: 'getStats',
    summary:
      'Dashboard figures for a time range: outcomes per bucket, approval rate, time to decision, pending ages, top tools, agents and reviewers',
    tags: ['stats'],
    auth: 'person',
    refusal: 'the dashboard is for people; agents cannot read it',
    query: StatsQuery,
    responses: { 200: { description: 'The figures', schema: Stats }, 400: err('Invalid range'), ...denied },
    handler: async ({ deps, query }) => getStats(deps, query),
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/audit/head',
    operationId: 'auditChainStatus',
    summary: 'The audit chain’s length and head hash, and what this gateway’s periodic verification last found (people only)',
    tags: ['audit'],
    auth: 'person',
    refusal: 'the audit log is for people; agents cannot read it',
    responses: { 200: { description: 'The chain head', schema: AuditChainStatus }, ...denied },
    handler: async ({ deps }) => auditChainStatus(deps),
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/audit/verify',
    operationId: 'verifyAudit',
    summary: 'Verify the whole audit chain now, from genesis (admins): as `countersign audit verify` does',
    tags: ['audit'],
    auth: 'admin',
    refusal: 'only an admin may run a verification of the audit log',
    responses: {
      200: { description: 'The verification’s result (ok false names the first entry that does not verify)', schema: AuditVerification },
      ...denied,
      403: err('Only admins'),
    },
    handler: async ({ deps }) => verifyOnRequest(deps),
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/audit/export',
    operationId: 'exportAudit',
    summary: 'The whole audit log as JSON lines, oldest first, as `countersign audit export` writes it (people only)',
    tags: ['audit'],
    auth: 'person',
    refusal: 'the audit log is for people; agents cannot read it',
    responses: {
      200: {
        description: 'One entry a line; `countersign audit verify --file` checks it offline',
        contentType: 'application/x-ndjson',
      },
      ...denied,
    },
    handler: async ({ deps, reply }) => {
      reply.header('content-type', 'application/x-ndjson; charset=utf-8');
      reply.header('content-disposition', 'attachment; filename="countersign-audit.jsonl"');
      reply.header('cache-control', 'no-store');
      // Streamed page by page (exportAudit reads 5,000 entries a query), so a long log is never held in memory.
      return reply.send(Readable.from(exportAudit(deps.db.read)));
    },
  }),
];
