import { z } from 'zod';
import { CsError } from '../lib/errors.js';
import { Duration as duration } from '../policy/schema.js';

/** Where Bot Framework publishes its OpenID metadata (jwks_uri) for the tokens it sends to bots. */
export const BOT_FRAMEWORK_METADATA = 'https://login.botframework.com/v1/.well-known/openidconfiguration';
/** The client-credentials endpoint that issues the bot's tokens for the Bot Connector API (multi-tenant bots). */
export const BOT_FRAMEWORK_TOKEN_URL = 'https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token';
/**
 * The Bot Connector hosts Teams sends activities from (public cloud, GCC, GCC High, DoD). The bot sends its
 * bearer token to an activity's serviceUrl, so only these are ever trusted, whatever an activity says.
 */
export const TEAMS_SERVICE_HOSTS = [
  'https://smba.trafficmanager.net/*',
  'https://smba.infra.gcc.teams.microsoft.com/*',
  'https://smba.infra.gov.teams.microsoft.us/*',
  'https://smba.infra.dod.teams.microsoft.us/*',
];

/** A notify-only Workflows webhook's name: its URL is read from COUNTERSIGN_TEAMS_WEBHOOK_<NAME>. */
export const TeamsWebhookName = z
  .string()
  .regex(
    /^[a-z][a-z0-9_]{0,39}$/,
    'lower-case letters, digits and _, starting with a letter (the URL is COUNTERSIGN_TEAMS_WEBHOOK_<NAME>)',
  );

/** `notifications.teams`: the bot (Bot Framework) and notify-only Workflows webhooks. Secrets come from the environment only. */
export const TeamsConfigSchema = z.strictObject({
  enabled: z.boolean().default(false),
  /** The bot's Microsoft App ID (the Azure Bot resource's app registration): the audience of inbound tokens. */
  app_id: z.string().min(1).max(100).optional(),
  /** The one Microsoft Entra tenant (id) whose activities are accepted and whose people are messaged. */
  tenant: z.string().min(1).max(100).optional(),
  openid_metadata_url: z.url().max(2000).default(BOT_FRAMEWORK_METADATA),
  token_url: z.url().max(2000).default(BOT_FRAMEWORK_TOKEN_URL),
  /** serviceUrl patterns (`*` matches any characters) the bot trusts; default: Teams' Bot Connector hosts. */
  service_url_allow: z.array(z.string().min(1).max(500)).min(1).max(50).default(TEAMS_SERVICE_HOSTS),
  /** Notify-only incoming webhooks (Teams Workflows), by name; each URL from COUNTERSIGN_TEAMS_WEBHOOK_<NAME>. */
  webhooks: z.array(TeamsWebhookName).max(50).default([]),
  /** Gives up on one call to Teams after this long (the event is retried). */
  timeout: duration.default(10_000),
});

export type TeamsConfig = Omit<z.output<typeof TeamsConfigSchema>, 'app_id' | 'tenant'> & {
  app_id: string;
  tenant: string;
  /** COUNTERSIGN_TEAMS_APP_PASSWORD: the app registration's client secret (undefined in notify-only mode). */
  appPassword: string | undefined;
  /** Webhook name → URL, from the environment. */
  webhookUrls: Record<string, string>;
  /** The bot half (inbound activities, cards to people and channels) is on: app id, tenant and password are set. */
  bot: boolean;
};

export function webhookEnvName(name: string): string {
  return `COUNTERSIGN_TEAMS_WEBHOOK_${name.toUpperCase()}`;
}

/**
 * Applies the defaults and reads the secrets. With `enabled`, either the bot is configured (app_id, tenant
 * and COUNTERSIGN_TEAMS_APP_PASSWORD) or only webhooks are (notify-only); every webhook's URL must be set
 * and https, since a Workflows URL is a secret that must never sit in a config file.
 */
export function resolveTeams(
  file: z.output<typeof TeamsConfigSchema> | undefined,
  env: NodeJS.ProcessEnv,
  publicUrl: string | undefined,
): TeamsConfig {
  const parsed = file ?? TeamsConfigSchema.parse({});
  const appPassword = env.COUNTERSIGN_TEAMS_APP_PASSWORD || undefined;
  const webhookUrls: Record<string, string> = {};
  for (const name of parsed.webhooks) {
    const url = env[webhookEnvName(name)];
    if (parsed.enabled && !url)
      throw new CsError('invalid_request', `notifications.teams.webhooks names ${name}: set ${webhookEnvName(name)}`);
    if (url) {
      if (!/^https:\/\//.test(url) && !/^http:\/\/(127\.0\.0\.1|localhost)[:/]/.test(url)) {
        throw new CsError('invalid_request', `${webhookEnvName(name)} must be an https URL`);
      }
      webhookUrls[name] = url;
    }
  }
  const botParts = [parsed.app_id, parsed.tenant, appPassword].filter((v) => v !== undefined).length;
  if (parsed.enabled) {
    if (publicUrl === undefined)
      throw new CsError('invalid_request', 'notifications.teams needs server.public_url: every card links to the console');
    if (botParts !== 0 && botParts !== 3) {
      throw new CsError(
        'invalid_request',
        'the Teams bot needs notifications.teams.app_id, notifications.teams.tenant and COUNTERSIGN_TEAMS_APP_PASSWORD',
      );
    }
    if (botParts === 0 && parsed.webhooks.length === 0) {
      throw new CsError('invalid_request', 'notifications.teams is enabled with neither a bot (app_id, tenant) nor webhooks');
    }
  }
  return {
    ...parsed,
    app_id: parsed.app_id ?? '',
    tenant: (parsed.tenant ?? '').toLowerCase(),
    appPassword,
    webhookUrls,
    bot: parsed.enabled && botParts === 3,
  };
}
