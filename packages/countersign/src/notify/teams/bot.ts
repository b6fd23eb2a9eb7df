import type { TeamsConfig } from '../../config/teams-schema.js';
import type { Clock } from '../../lib/clock.js';
import { BotConnector } from './connector.js';
import { serviceUrlAllowed } from './service-url.js';
import { BotTokens } from './token.js';
import { BotTokenVerifier } from './verify-token.js';

/**
 * The Teams bot of one gateway: the inbound token check (with its cached keys) and the outbound Bot
 * Connector client (with its cached token). Built once in createDeps when the bot is configured; no
 * module-level state, so gateways side by side each have their own.
 */
export class TeamsBot {
  readonly verifier: BotTokenVerifier;
  readonly tokens: BotTokens;
  readonly connector: BotConnector;

  constructor(
    readonly cfg: TeamsConfig,
    clock: Clock,
  ) {
    this.verifier = new BotTokenVerifier(cfg, clock);
    this.tokens = new BotTokens(cfg, clock);
    this.connector = new BotConnector(cfg, this.tokens);
  }

  serviceUrlAllowed(url: string): boolean {
    return serviceUrlAllowed(this.cfg.service_url_allow, url);
  }
}
