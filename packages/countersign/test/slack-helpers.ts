import { NotificationsConfigSchema, resolveNotifications } from '../src/config/notify-schema.js';
import type { Config } from '../src/config/schema.js';
import { APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, type SlackStandIn, TEAM } from './slack-standin.js';
import { PUBLIC_URL } from './smtp-helpers.js';

export const REVIEW_CHANNEL = 'C0REVIEW';

/** Every action's `asked` moments to the review channel and, by DM, to each approver with a linked Slack account. */
export const SLACK_ROUTES = [
  {
    workflow: '*',
    events: ['asked'],
    to: [
      { kind: 'slack', channel: REVIEW_CHANNEL },
      { kind: 'approvers', channel: 'slack' },
    ],
  },
];

/** A config transformer: the Slack channel against the stand-in (HTTP or Socket Mode), its secrets from the environment. */
export function withSlack(
  standin: SlackStandIn,
  slack: Record<string, unknown> = {},
  more: Partial<Config> = {},
  routes: unknown[] = SLACK_ROUTES,
): (c: Config) => Config {
  const file = NotificationsConfigSchema.parse({
    slack: { enabled: true, mode: 'http', api_url: standin.apiUrl, workspace: TEAM, ...slack },
    routes,
  });
  const env = {
    COUNTERSIGN_SLACK_BOT_TOKEN: BOT_TOKEN,
    COUNTERSIGN_SLACK_SIGNING_SECRET: SIGNING_SECRET,
    COUNTERSIGN_SLACK_APP_TOKEN: APP_TOKEN,
  };
  return (c) => ({
    ...c,
    server: { ...c.server, publicUrl: PUBLIC_URL },
    notifications: resolveNotifications(file, env, PUBLIC_URL),
    ...more,
  });
}

/** Every string in a Block Kit structure with the type of the text object holding it (`plain_text`, `mrkdwn`, or the field name). */
export function textsOf(value: unknown, out: { type: string; text: string }[] = []): { type: string; text: string }[] {
  if (Array.isArray(value)) for (const v of value) textsOf(v, out);
  else if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if ((o.type === 'plain_text' || o.type === 'mrkdwn') && typeof o.text === 'string') out.push({ type: o.type, text: o.text });
    else for (const v of Object.values(o)) textsOf(v, out);
  }
  return out;
}
