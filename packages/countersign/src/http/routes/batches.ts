import { ActionIdParams, ErrorBody, GetActionQuery } from '../../domain/actions/schemas.js';
import { getBatch } from '../../domain/batches/get-batch.js';
import { proposeBatch } from '../../domain/batches/propose-batch.js';
import { reviewBatch } from '../../domain/batches/review-batch.js';
import { BatchReviewBody, BatchReviewResult, BatchView, ProposeBatchBody } from '../../domain/batches/schemas.js';
import { CsError } from '../../lib/errors.js';
import { defineRoute, type RouteSpec } from '../route-spec.js';
import { holdWhileAuthorized, waitMs } from './wait.js';

const err = (description: string) => ({ description, schema: ErrorBody });
const common = { 400: err('Invalid request'), 401: err('Missing or bad API key') };

export const batchRoutes: RouteSpec[] = [
  defineRoute({
    method: 'POST',
    url: '/v1/actions/batch',
    operationId: 'proposeBatch',
    summary: 'Propose several actions at once (parallel tool calls); each is decided on its own',
    tags: ['actions'],
    auth: 'agent',
    refusal: 'only agent keys can propose actions',
    body: ProposeBatchBody,
    headers: { 'idempotency-key': { description: 'Covers the whole batch: a retry returns the same actions' } },
    responses: {
      201: { description: 'Created', schema: BatchView },
      200: { description: 'Replay of an earlier request with the same Idempotency-Key', schema: BatchView },
      ...common,
      403: err('Not an agent key'),
      409: err('Idempotency-Key reused with a different body'),
    },
    handler: async ({ deps, principal, body, request, reply }) => {
      const key = request.headers['idempotency-key'];
      if (Array.isArray(key)) throw new CsError('invalid_request', 'send one Idempotency-Key header');
      const { batch, created } = await proposeBatch(deps, principal, body, key);
      reply.code(created ? 201 : 200).header('location', `/v1/batches/${batch.batch_id}`);
      return batch;
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/batches/:id',
    operationId: 'getBatch',
    summary: 'The actions of a batch; with ?wait=N hold until every one is decided',
    tags: ['actions'],
    auth: 'any',
    params: ActionIdParams,
    query: GetActionQuery,
    responses: { 200: { description: 'The batch', schema: BatchView }, ...common, 404: err('No such batch') },
    handler: async ({ deps, principal, params, query, request, reply }) => {
      const ms = waitMs(deps, query.wait);
      if (ms <= 0) return getBatch(deps, principal, params.id);
      return holdWhileAuthorized(deps, principal, request, reply, (signal) => getBatch(deps, principal, params.id, ms, signal));
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/batches/:id/reviews',
    operationId: 'reviewBatch',
    summary: 'Approve or deny every pending action of a batch (or the listed ones), each as its own vote',
    tags: ['reviews'],
    auth: 'person',
    refusal: 'agent keys can never review actions',
    params: ActionIdParams,
    body: BatchReviewBody,
    responses: {
      200: {
        description: 'One result per action: approved, or what refused that vote (decided meanwhile, already voted)',
        schema: BatchReviewResult,
      },
      ...common,
      403: err(
        'The caller may not review one of the pending actions (as a single review would say, step_up_required included); nothing was written',
      ),
      404: err('No such batch'),
    },
    handler: async ({ deps, principal, params, body }) => reviewBatch(deps, principal, params.id, body),
  }),
];
