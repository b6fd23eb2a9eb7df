import type { WebClient } from '@slack/web-api';
import type { Deps } from '../../deps.js';
import type { ConsumerDefinition } from '../../events/consumers/types.js';
import { failedSends } from '../delivery-errors.js';
import { CHANNEL_CONCURRENCY, NOTIFY_EVENT_TYPES, occasionOf } from '../routing.js';
import { postAsked } from './post-asked.js';
import { updateDecided } from './update-decided.js';

export const SLACK_CONSUMER = 'slack';

/**
 * The Slack channel's durable consumer, separate from email's: a Slack outage retries and dead-letters
 * Slack's deliveries only, and never holds up mail. `asked` posts a message per target; a decision from
 * any channel updates every message of the action. Any failed call makes the handler throw after the
 * others were tried, so the event is retried (calls already made are not made again).
 */
export function slackConsumer(deps: Deps, web: WebClient): ConsumerDefinition {
  return {
    name: SLACK_CONSUMER,
    types: NOTIFY_EVENT_TYPES,
    concurrency: CHANNEL_CONCURRENCY,
    async handle(d) {
      const occasion = occasionOf(d.event);
      if (!occasion) return;
      const errors =
        occasion.moment === 'asked'
          ? await postAsked(deps, web, d, occasion.action, occasion.asked)
          : await updateDecided(deps, web, d, occasion.action);
      if (errors.length > 0) throw failedSends('Slack call(s)', errors);
    },
  };
}
