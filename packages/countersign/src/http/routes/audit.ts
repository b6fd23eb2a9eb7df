import { ErrorBody } from '../../domain/actions/schemas.js';
import { latestCheckpoint } from '../../domain/audit/latest-checkpoint.js';
import { listAudit } from '../../domain/audit/list-audit.js';
import { AuditList, CheckpointView, ListAuditQuery } from '../../domain/audit/schemas.js';
import { defineRoute, type RouteSpec } from '../route-spec.js';

const err = (description: string) => ({ description, schema: ErrorBody });
const common = { 400: err('Invalid request'), 401: err('Missing or bad API key') };

/** Plain text only when asked for it and JSON is not: curl's default (Accept: *\/*) gets JSON. */
function wantsText(accept: string | undefined): boolean {
  return accept !== undefined && /\btext\/plain\b/i.test(accept) && !/\bapplication\/json\b/i.test(accept);
}

export const auditRoutes: RouteSpec[] = [
  defineRoute({
    method: 'GET',
    url: '/v1/audit/checkpoints/latest',
    operationId: 'latestAuditCheckpoint',
    summary: 'The newest signed checkpoint of the audit log (JSON, or the bare note with Accept: text/plain)',
    tags: ['audit'],
    auth: 'any',
    responses: {
      200: {
        description: 'The checkpoint; as text/plain, exactly the signed note (what `countersign audit verify --checkpoint` reads)',
        schema: CheckpointView,
        contentType: 'text/plain',
      },
      401: err('Missing or bad API key'),
      404: err('No checkpoint has been signed yet'),
    },
    handler: async ({ deps, request, reply }) => {
      const cp = await latestCheckpoint(deps.db.read);
      if (!wantsText(request.headers.accept)) return cp;
      reply.header('content-type', 'text/plain; charset=utf-8');
      return cp.note;
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/audit',
    operationId: 'listAudit',
    summary: 'Audit log entries in sequence order (people only)',
    tags: ['audit'],
    auth: 'person',
    refusal: 'the audit log is for people; agents cannot read it',
    query: ListAuditQuery,
    responses: { 200: { description: 'A page of entries', schema: AuditList }, ...common, 403: err('Agents cannot read the audit log') },
    handler: async ({ deps, principal, query }) =>
      listAudit(deps, principal, {
        action: query.action,
        actor: query.actor,
        event: query.event,
        cursor: query.cursor,
        limit: query.limit === undefined ? undefined : Number(query.limit),
      }),
  }),
];
