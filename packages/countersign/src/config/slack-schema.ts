import { z } from 'zod';
import { CsError } from '../lib/errors.js';

export const SLACK_API_URL = 'https://slack.com/api/';

/**
 * `notifications.slack`: a Slack app that posts review requests and takes Approve / Deny clicks. Its
 * tokens and signing secret come from the environment only (COUNTERSIGN_SLACK_BOT_TOKEN, and
 * COUNTERSIGN_SLACK_SIGNING_SECRET for `http` or COUNTERSIGN_SLACK_APP_TOKEN for `socket`), never a file.
 */
export const SlackConfigSchema = z.strictObject({
  enabled: z.boolean().default(false),
  /** `http`: Slack posts interactions to POST /slack/interactions (needs a public URL). `socket`: Socket Mode, no public URL. */
  mode: z.enum(['http', 'socket']).default('http'),
  /** The Web API base (a stand-in in tests, an egress proxy in locked-down networks). */
  api_url: z.url().max(2000).default(SLACK_API_URL),
  /** The workspace (team id, `T…`) the app is installed in: clicks from any other workspace are refused. */
  workspace: z
    .string()
    .regex(/^[TE][A-Z0-9]{1,20}$/, 'a Slack team id such as T0123ABCD')
    .optional(),
  /** Link an unlinked Slack user by the email Slack holds for them (needs users:read.email). Off: only links made in the console count. */
  match_email: z.boolean().default(false),
});

export type SlackConfigFile = z.input<typeof SlackConfigSchema>;

/** The resolved section: defaults applied, secrets from the environment. */
export type SlackConfig = Omit<z.output<typeof SlackConfigSchema>, 'workspace'> & {
  workspace: string;
  botToken: string;
  signingSecret: string | undefined;
  appToken: string | undefined;
};

/** Disabled: nothing else is read (and nothing is required). Enabled: the workspace and the mode's secrets must be there. */
export function resolveSlack(file: z.output<typeof SlackConfigSchema> | undefined, env: NodeJS.ProcessEnv): SlackConfig {
  const parsed = file ?? SlackConfigSchema.parse({});
  const botToken = env.COUNTERSIGN_SLACK_BOT_TOKEN || '';
  const signingSecret = env.COUNTERSIGN_SLACK_SIGNING_SECRET || undefined;
  const appToken = env.COUNTERSIGN_SLACK_APP_TOKEN || undefined;
  if (parsed.enabled) {
    if (parsed.workspace === undefined)
      throw new CsError('invalid_request', 'notifications.slack needs workspace: the team id (T…) of the installation');
    if (!botToken.startsWith('xoxb-'))
      throw new CsError('invalid_request', 'notifications.slack needs COUNTERSIGN_SLACK_BOT_TOKEN (xoxb-…)');
    if (parsed.mode === 'http' && signingSecret === undefined) {
      throw new CsError('invalid_request', 'notifications.slack in http mode needs COUNTERSIGN_SLACK_SIGNING_SECRET');
    }
    if (parsed.mode === 'socket' && !appToken?.startsWith('xapp-')) {
      throw new CsError('invalid_request', 'notifications.slack in socket mode needs COUNTERSIGN_SLACK_APP_TOKEN (xapp-…)');
    }
  }
  return { ...parsed, workspace: parsed.workspace ?? '', botToken, signingSecret, appToken };
}
