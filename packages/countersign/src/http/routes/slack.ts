import { z } from 'zod';
import { CsError } from '../../lib/errors.js';
import { answerInTime } from '../../notify/slack/answer-in-time.js';
import { slackWebClient } from '../../notify/slack/client.js';
import { handleInteraction } from '../../notify/slack/interactions.js';
import { verifySlackRequest } from '../../notify/slack/verify-request.js';
import { defineRoute, type RouteSpec } from '../route-spec.js';

export const SLACK_INTERACTIONS_PATH = '/slack/interactions';

const Form = z.object({ payload: z.string().min(2).max(200_000) });

/**
 * Slack's interactivity request URL (HTTP mode). The body is read raw (the form parser hands this path
 * the exact bytes) and its v0 signature checked, with the timestamp and replay checks, before anything in
 * it is read; then the one interaction handler (the same as Socket Mode's) runs, answered within Slack's
 * three seconds. Refused without a valid signature: 401, and nothing decided.
 */
export const slackRoutes: RouteSpec[] = [
  defineRoute({
    method: 'POST',
    url: SLACK_INTERACTIONS_PATH,
    operationId: 'slackInteraction',
    summary: "Slack's interactivity request URL: button clicks and the deny form, signed with the app's signing secret",
    tags: ['notifications'],
    auth: 'none',
    headers: {
      'x-slack-signature': { description: 'v0=HMAC-SHA256(signing secret, "v0:{timestamp}:{raw body}")', required: true },
      'x-slack-request-timestamp': { description: 'Unix seconds; refused when more than five minutes away', required: true },
    },
    body: Form,
    responses: {
      200: { description: 'Acknowledged (empty), or a modal answer' },
      401: { description: 'Not signed by Slack, too old, or a replay' },
      404: { description: 'The Slack channel is not enabled in HTTP mode' },
    },
    handler: async ({ deps, request, reply }) => {
      const slack = deps.config.notifications.slack;
      if (!slack.enabled || slack.mode !== 'http' || !slack.signingSecret) {
        throw new CsError('not_found', 'the Slack channel is not enabled in HTTP mode');
      }
      if (typeof request.body !== 'string') throw new CsError('unauthenticated', 'not a signed Slack request');
      const header = (name: string) => {
        const v = request.headers[name];
        return typeof v === 'string' ? v : undefined;
      };
      await verifySlackRequest(deps, slack.signingSecret, request.body, header('x-slack-request-timestamp'), header('x-slack-signature'));
      const form = Form.safeParse(Object.fromEntries(new URLSearchParams(request.body)));
      let payload: unknown = null;
      try {
        payload = form.success ? JSON.parse(form.data.payload) : null;
      } catch {
        payload = null;
      }
      // A client per request is an object, not a connection (HTTP keep-alive is the process's).
      const answer = await answerInTime(deps, handleInteraction(deps, slackWebClient(slack), payload));
      reply.status(200);
      if (answer === null) return reply.send();
      return answer;
    },
  }),
];
