import { z } from 'zod';
import type { TeamsConfig } from '../../config/teams-schema.js';
import type { Clock } from '../../lib/clock.js';
import { callTeams, TeamsCallFailed } from './http-call.js';

/** The Bot Connector API's scope for a bot's client-credentials token. */
export const BOT_CONNECTOR_SCOPE = 'https://api.botframework.com/.default';
/** A token is renewed this long before it expires, so no call ever carries one that lapses in flight. */
const RENEW_BEFORE_MS = 5 * 60_000;

const TokenAnswer = z.object({
  access_token: z.string().min(1).max(20_000),
  token_type: z.string().optional(),
  expires_in: z.coerce.number().int().positive(),
});

/**
 * The bot's access token for outbound calls (OAuth 2.0 client credentials at `token_url`, the app id and
 * COUNTERSIGN_TEAMS_APP_PASSWORD), cached until five minutes before it expires on the injected clock.
 * Concurrent callers share one request. A 401 from the connector drops it (`forget`).
 */
export class BotTokens {
  private cached: { token: string; renewAt: number } | undefined;
  private pending: Promise<string> | undefined;

  constructor(
    private readonly cfg: TeamsConfig,
    private readonly clock: Clock,
  ) {}

  async get(): Promise<string> {
    if (this.cached && this.clock.now() < this.cached.renewAt) return this.cached.token;
    this.pending ??= this.fetchToken().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  forget(): void {
    this.cached = undefined;
  }

  private async fetchToken(): Promise<string> {
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: this.cfg.app_id,
      client_secret: this.cfg.appPassword ?? '',
      scope: BOT_CONNECTOR_SCOPE,
    }).toString();
    const answer = await callTeams(
      this.cfg.token_url,
      { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body },
      this.cfg.timeout,
    );
    const parsed = TokenAnswer.safeParse(answer);
    if (!parsed.success) throw new TeamsCallFailed(200, 'the token endpoint answered without an access token');
    const lifetimeMs = parsed.data.expires_in * 1000;
    this.cached = { token: parsed.data.access_token, renewAt: this.clock.now() + Math.max(0, lifetimeMs - RENEW_BEFORE_MS) };
    return parsed.data.access_token;
  }
}
