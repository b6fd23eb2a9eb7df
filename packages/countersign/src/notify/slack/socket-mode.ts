import type { SocketModeClient } from '@slack/socket-mode';
import { LogLevel, type WebClient } from '@slack/web-api';
import type { SlackConfig } from '../../config/slack-schema.js';
import type { Deps } from '../../deps.js';
import { answerInTime } from './answer-in-time.js';
import { handleInteraction } from './interactions.js';

/**
 * Socket Mode: the gateway opens the WebSocket (apps.connections.open with the app-level token, through
 * @slack/socket-mode), so an installation needs no public URL. Interactions arrive as envelopes, go to the
 * same handler as HTTP ones, and are acknowledged within Slack's three seconds (with the handler's answer
 * when it has one by then). Only Slack, holding the app token's connection, can send on it.
 */
export class SlackSocket {
  /**
   * @slack/socket-mode brings its own undici (some 120 modules to load), so only a gateway that runs in Socket
   * Mode imports it.
   */
  static async open(deps: Deps, web: WebClient, cfg: Pick<SlackConfig, 'api_url' | 'appToken'>): Promise<SlackSocket> {
    const { SocketModeClient } = await import('@slack/socket-mode');
    const client = new SocketModeClient({
      appToken: cfg.appToken ?? '',
      logLevel: LogLevel.ERROR,
      clientOptions: { slackApiUrl: cfg.api_url },
    });
    return new SlackSocket(deps, web, client);
  }

  private constructor(
    private readonly deps: Deps,
    web: WebClient,
    private readonly client: SocketModeClient,
  ) {
    this.client.on('interactive', ({ ack, body }: { ack: (r?: Record<string, unknown>) => Promise<void>; body: unknown }) => {
      answerInTime(this.deps, handleInteraction(this.deps, web, body))
        .then((answer) => ack(answer ?? undefined))
        .catch((err: unknown) => this.deps.logger.warn({ err }, 'could not acknowledge a Slack interaction'));
    });
  }

  async start(): Promise<void> {
    await this.client.start();
  }

  async stop(): Promise<void> {
    await this.client.disconnect();
  }
}
