import { z } from 'zod';
import { listAuditExports } from '../../audit-export/list-exports.js';
import { AuditExportView } from '../../audit-export/schemas.js';
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
];
