import { inbox, inboxItem } from '../../domain/actions/inbox.js';
import { Inbox, InboxIdParams, InboxItem, InboxQuery } from '../../domain/actions/inbox-schemas.js';
import { ErrorBody } from '../../domain/actions/schemas.js';
import { parseDuration } from '../../lib/duration.js';
import { defineRoute, type RouteSpec } from '../route-spec.js';

const err = (description: string) => ({ description, schema: ErrorBody });

/** What the reviewer console reads: the person's inbox, and one action with whether they may vote on it now. */
export const inboxRoutes: RouteSpec[] = [
  defineRoute({
    method: 'GET',
    url: '/v1/inbox',
    operationId: 'getInbox',
    summary: 'Pending actions: those the caller may decide now first, then those waiting on others, earliest deadline first',
    tags: ['reviews'],
    auth: 'person',
    refusal: 'the inbox is for people; agents read their own actions at /v1/actions',
    query: InboxQuery,
    responses: {
      200: { description: 'The inbox', schema: Inbox },
      400: err('Invalid filter'),
      401: err('Not authenticated'),
      403: err('Not a person'),
    },
    handler: async ({ deps, principal, query }) =>
      inbox(deps, principal, {
        agent: query.agent,
        tool: query.tool,
        workflow: query.workflow,
        olderThanMs: query.older_than === undefined ? undefined : parseDuration(query.older_than),
        limit: query.limit === undefined ? undefined : Number(query.limit),
      }),
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/inbox/:id',
    operationId: 'getInboxItem',
    summary: "One action as a person sees it: the action, its agent's owner, and whether the caller may vote on it now",
    tags: ['reviews'],
    auth: 'person',
    refusal: 'this view is for people; agents read /v1/actions/{id}',
    params: InboxIdParams,
    responses: {
      200: { description: 'The action', schema: InboxItem },
      400: err('Invalid id'),
      401: err('Not authenticated'),
      403: err('Not a person'),
      404: err('No such action'),
    },
    handler: async ({ deps, principal, params }) => inboxItem(deps, principal, params.id),
  }),
];
