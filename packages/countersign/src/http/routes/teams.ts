import { z } from 'zod';
import { CsError } from '../../lib/errors.js';
import { Activity } from '../../notify/teams/activity.js';
import { onActivity } from '../../notify/teams/on-activity.js';
import { defineRoute, type RouteSpec } from '../route-spec.js';

const InvokeAnswer = z
  .object({ statusCode: z.number().int(), type: z.string(), value: z.unknown() })
  .meta({ id: 'TeamsInvokeResponse', description: 'The answer to an adaptiveCard/action invoke: a card, or an error' });

/**
 * The Teams bot's messaging endpoint (the Azure Bot resource's "Messaging endpoint"). The Bot Framework
 * JWT in Authorization is checked before the body is looked at beyond its serviceUrl (notify/teams/
 * verify-token.ts); route auth is `none` because the caller is the Bot Connector, not a Countersign
 * principal: the person is the linked Teams user of the activity (notify/teams/on-activity.ts).
 */
export const teamsRoutes: RouteSpec[] = [
  defineRoute({
    method: 'POST',
    url: '/teams/messages',
    operationId: 'teamsMessages',
    summary: 'Activities from Microsoft Teams (Bot Framework): conversation updates, messages, adaptiveCard/action invokes',
    tags: ['notifications'],
    auth: 'none',
    body: Activity,
    headers: { authorization: { description: 'Bearer <Bot Framework JWT>', required: true } },
    responses: {
      200: { description: 'Accepted; an invoke is answered with a card or an error', schema: InvokeAnswer },
      400: { description: 'Not an activity' },
      401: { description: 'No valid Bot Framework token for this bot and this service URL' },
      403: { description: 'From another tenant' },
      404: { description: 'The Teams bot is not configured' },
    },
    handler: async ({ deps, body, request, reply }) => {
      const bot = deps.teams;
      if (!bot) throw new CsError('not_found', 'the Teams bot is not configured on this gateway');
      // The token first, for any body: a caller without one learns nothing about what we accept.
      const serviceUrl = (body as { serviceUrl?: unknown } | null)?.serviceUrl;
      await bot.verifier.verify(request.headers.authorization, typeof serviceUrl === 'string' ? serviceUrl : '');
      const parsed = Activity.safeParse(body);
      if (!parsed.success) throw new CsError('invalid_request', 'not a Bot Framework activity');
      if (!bot.serviceUrlAllowed(parsed.data.serviceUrl))
        throw new CsError('forbidden', 'the activity comes from a service URL this bot does not trust');
      const answer = await onActivity(deps, parsed.data);
      reply.status(200);
      return answer ?? {};
    },
  }),
];
