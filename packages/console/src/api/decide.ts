import { query, request } from './client.js';
import type {
  ActionList,
  Batch,
  BatchReviewInput,
  BatchReviewResult,
  FullInboxFilter,
  FullReviewInput,
  ReviewSettings,
} from './decide-types.js';
import type { Action, Inbox } from './types.js';

/** The calls of deciding in full: settings, a review with edits or a grant, batches, the filtered inbox, the subagent tree. */
export const decideApi = {
  settings: () => request<ReviewSettings>('GET', '/v1/review-settings'),
  review: (id: string, input: FullReviewInput) => request<Action>('POST', `/v1/actions/${encodeURIComponent(id)}/reviews`, input),
  inbox: (f: FullInboxFilter) =>
    request<Inbox>('GET', `/v1/inbox${query({ agent: f.agent, tool: f.tool, workflow: f.workflow, older_than: f.older_than })}`),
  batch: (id: string) => request<Batch>('GET', `/v1/batches/${encodeURIComponent(id)}`),
  reviewBatch: (id: string, input: BatchReviewInput) =>
    request<BatchReviewResult>('POST', `/v1/batches/${encodeURIComponent(id)}/reviews`, input),
  /** An action with the id and its descendants (the parent_id chain under a root). */
  tree: (rootId: string) => request<ActionList>('GET', `/v1/actions${query({ root_id: rootId, limit: '100' })}`),
};
