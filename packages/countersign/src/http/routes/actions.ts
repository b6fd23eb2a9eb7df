import { cancelAction } from '../../domain/actions/cancel-action.js';
import { getAction } from '../../domain/actions/get-action.js';
import { listActions } from '../../domain/actions/list-actions.js';
import { proposeAction } from '../../domain/actions/propose-action.js';
import { reportResult } from '../../domain/actions/report-result.js';
import { reviewAction } from '../../domain/actions/review-action.js';
import {
  ActionIdParams,
  ActionList,
  ActionView,
  CancelBody,
  ErrorBody,
  GetActionQuery,
  ListActionsQuery,
  ProposeActionBody,
  ProposeActionQuery,
  ResultBody,
  ReviewBody,
} from '../../domain/actions/schemas.js';
import { CsError } from '../../lib/errors.js';
import { isId } from '../../lib/ids.js';
import { requestContext, tracedStep } from '../../telemetry/spans.js';
import { defineRoute, type RouteSpec } from '../route-spec.js';
import { waitMs } from './wait.js';

const err = (description: string) => ({ description, schema: ErrorBody });
const common = { 400: err('Invalid request'), 401: err('Missing or bad API key') };

export const actionRoutes: RouteSpec[] = [
  defineRoute({
    method: 'POST',
    url: '/v1/actions',
    operationId: 'proposeAction',
    summary: 'Propose an action (agent key)',
    tags: ['actions'],
    auth: 'agent',
    refusal: 'only agent keys can propose actions',
    keyCheckedAtCommit: true,
    body: ProposeActionBody,
    query: ProposeActionQuery,
    headers: { 'idempotency-key': { description: 'Same key + same body returns the same action; same key + different body is a 409' } },
    responses: {
      201: { description: 'Created', schema: ActionView },
      200: { description: 'Replay of an earlier request with the same Idempotency-Key', schema: ActionView },
      ...common,
      403: err('Not an agent key'),
      409: err('Idempotency-Key reused with a different body'),
      413: err('Body too large'),
    },
    handler: async ({ deps, principal, body, query, request, reply }) => {
      const key = request.headers['idempotency-key'];
      if (Array.isArray(key)) throw new CsError('invalid_request', 'send one Idempotency-Key header');
      const { action, created } = await proposeAction(deps, principal, body, key, {
        redeem: query.redeem === 'true',
        trace: deps.tracing.enabled ? requestContext(request.headers) : undefined,
      });
      reply.code(created ? 201 : 200).header('location', `/v1/actions/${action.id}`);
      return action;
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/actions/:id',
    operationId: 'getAction',
    summary: 'Get an action; with ?wait=N hold up to N seconds until it is decided',
    tags: ['actions'],
    auth: 'any',
    params: ActionIdParams,
    query: GetActionQuery,
    responses: { 200: { description: 'The action', schema: ActionView }, ...common, 404: err('No such action') },
    // Not async: it returns the parked wait's own promise, since an async wrapper would hold one more
    // promise and its resolving functions for every parked long-poll (about 0.2 kB each, 10,000 at once).
    handler: ({ deps, principal, params, query, request, reply }) => {
      const ms = waitMs(deps, query.wait);
      if (ms <= 0 || !isId(params.id)) return getAction(deps, principal, params.id);
      // Parked as a plain record until decided, timed out, revoked or closed (http/parked-long-polls.ts).
      return request.server.longPolls.wait(principal, params.id, ms, reply.raw, request.identityEpoch ?? undefined);
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/actions',
    operationId: 'listActions',
    summary: 'List actions, newest first (agents see their own)',
    tags: ['actions'],
    auth: 'any',
    query: ListActionsQuery,
    responses: { 200: { description: 'A page of actions', schema: ActionList }, ...common },
    handler: async ({ deps, principal, query }) =>
      listActions(deps, principal, {
        status: query.status,
        agent: query.agent,
        tool: query.tool,
        sessionId: query.session_id,
        rootId: query.root_id,
        decidedBy: query.decided_by,
        from: query.from === undefined ? undefined : Date.parse(query.from),
        to: query.to === undefined ? undefined : Date.parse(query.to),
        q: query.q,
        workflow: query.workflow,
        cursor: query.cursor,
        limit: query.limit === undefined ? undefined : Number(query.limit),
      }),
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/actions/:id/reviews',
    operationId: 'reviewAction',
    summary: 'Approve, edit and approve, or deny a pending action (human key)',
    tags: ['reviews'],
    auth: 'person',
    refusal: 'agent keys can never review actions',
    keyCheckedAtCommit: true,
    params: ActionIdParams,
    body: ReviewBody,
    responses: {
      200: { description: 'The decided action', schema: ActionView },
      ...common,
      403: err(
        'Agents, viewers, the agent owner and the on_behalf_of person cannot review; step_up_required: approving this stage needs a recent strong sign-in (details say how to re-authenticate)',
      ),
      404: err('No such action'),
      409: err('The action is no longer pending'),
    },
    handler: async ({ deps, principal, params, body, request }) =>
      deps.tracing.enabled
        ? tracedStep(deps, 'countersign.review', { actionId: params.id, headers: request.headers }, () =>
            reviewAction(deps, principal, params.id, body),
          )
        : reviewAction(deps, principal, params.id, body),
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/actions/:id/cancel',
    operationId: 'cancelAction',
    summary: 'Withdraw a pending action (the requesting agent)',
    tags: ['actions'],
    auth: 'agent',
    refusal: 'only the agent that proposed an action can cancel it',
    params: ActionIdParams,
    body: CancelBody,
    responses: {
      200: { description: 'The cancelled action', schema: ActionView },
      ...common,
      404: err('No such action'),
      409: err('Not pending'),
    },
    handler: async ({ deps, principal, params, body }) => cancelAction(deps, principal, params.id, body),
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/actions/:id/result',
    operationId: 'reportResult',
    summary: 'Report the outcome of running an approved action (the requesting agent, once)',
    tags: ['actions'],
    auth: 'agent',
    refusal: 'only the agent that proposed an action can report its result',
    keyCheckedAtCommit: true,
    params: ActionIdParams,
    body: ResultBody,
    responses: {
      200: { description: 'The action', schema: ActionView },
      ...common,
      404: err('No such action'),
      409: err('Not approved, or already reported'),
    },
    handler: async ({ deps, principal, params, body, request }) =>
      deps.tracing.enabled
        ? tracedStep(deps, 'countersign.result', { actionId: params.id, headers: request.headers, agentId: principal.id }, () =>
            reportResult(deps, principal, params.id, body),
          )
        : reportResult(deps, principal, params.id, body),
  }),
];
