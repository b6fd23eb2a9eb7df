import { z } from 'zod';
import { forgetAuditSink } from '../../audit-export/forget-sink.js';
import { listAuditExports } from '../../audit-export/list-exports.js';
import { AuditExportView } from '../../audit-export/schemas.js';
import { SinkName } from '../../config/audit-export-schema.js';
import { ErrorBody } from '../../domain/actions/schemas.js';
import { defineRoute, type RouteSpec } from '../route-spec.js';

const err = (description: string) => ({ description, schema: ErrorBody });

export const adminAuditExportRoutes: RouteSpec[] = [
  defineRoute({
    method: 'GET',
    url: '/v1/admin/audit-export',
    operationId: 'listAuditExportSinks',
    summary: 'SIEM sinks streaming the audit log: position, lag, the node streaming each, the last error (admins)',
    tags: ['admin'],
    auth: 'admin',
    responses: {
      200: { description: 'Sinks', schema: z.object({ items: z.array(AuditExportView) }) },
      401: err('Missing or bad API key'),
      403: err('Not an admin'),
    },
    handler: async ({ deps, principal }) => ({ items: await listAuditExports(deps, principal) }),
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/admin/audit-export/:name/forget',
    operationId: 'forgetAuditExportSink',
    summary: 'Remove a retired SIEM sink (no node configures or streams it any more); audited with the position it reached (admins)',
    tags: ['admin'],
    auth: 'admin',
    params: z.strictObject({ name: SinkName }),
    responses: {
      200: {
        description: 'The sink was removed; the last entry it had taken',
        schema: z.object({ name: z.string(), cursor: z.number().int(), cursor_hash: z.string() }),
      },
      401: err('Missing or bad API key'),
      403: err('Not an admin'),
      404: err('No sink by that name'),
      409: err('This node still configures the sink, or a node is streaming it'),
    },
    handler: async ({ deps, principal, params }) => {
      const f = await forgetAuditSink(deps, principal, params.name);
      return { name: f.name, cursor: f.cursor, cursor_hash: f.cursorHash };
    },
  }),
];
