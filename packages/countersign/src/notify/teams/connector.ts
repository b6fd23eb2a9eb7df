import { z } from 'zod';
import type { TeamsConfig } from '../../config/teams-schema.js';
import { callTeams, TeamsCallFailed } from './http-call.js';
import { connectorUrl, serviceUrlAllowed } from './service-url.js';
import type { BotTokens } from './token.js';

const Created = z.object({ id: z.string().min(1).max(1000) });

/**
 * The Bot Connector REST API (v3), the calls the bot makes: create a personal conversation, post an
 * activity, reply to one, replace one. Every call carries the bot's bearer token and goes only to an allowed
 * service URL; a 401 renews the token for the next attempt.
 */
export class BotConnector {
  constructor(
    private readonly cfg: TeamsConfig,
    private readonly tokens: BotTokens,
  ) {}

  /** A 1:1 chat between the bot and a person (by Entra object id or Teams user id): its conversation id. */
  async createPersonalConversation(serviceUrl: string, member: string): Promise<string> {
    const body = {
      bot: { id: `28:${this.cfg.app_id}` },
      members: [{ id: member }],
      isGroup: false,
      tenantId: this.cfg.tenant,
      channelData: { tenant: { id: this.cfg.tenant } },
    };
    const answer = await this.call(serviceUrl, 'POST', 'v3/conversations', body);
    return this.idOf(answer, 'the conversation');
  }

  /** Posts a new activity to a conversation (a chat, or a channel: a new thread): its activity id. */
  async sendActivity(serviceUrl: string, conversationId: string, activity: Record<string, unknown>): Promise<string> {
    const answer = await this.call(serviceUrl, 'POST', `v3/conversations/${encodeURIComponent(conversationId)}/activities`, activity);
    return this.idOf(answer, 'the activity');
  }

  /**
   * Replies to a posted activity (POST …/activities/{activityId}, the Connector's ReplyToActivity): in a
   * channel the reply goes in the activity's thread; in a personal chat, which has no threads, it is the
   * next message. Returns the reply's activity id.
   */
  async replyToActivity(
    serviceUrl: string,
    conversationId: string,
    activityId: string,
    activity: Record<string, unknown>,
  ): Promise<string> {
    const path = `v3/conversations/${encodeURIComponent(conversationId)}/activities/${encodeURIComponent(activityId)}`;
    const answer = await this.call(serviceUrl, 'POST', path, { ...activity, replyToId: activityId });
    return this.idOf(answer, 'the reply');
  }

  /** Replaces a posted activity (the card after a decision). */
  async updateActivity(serviceUrl: string, conversationId: string, activityId: string, activity: Record<string, unknown>): Promise<void> {
    const path = `v3/conversations/${encodeURIComponent(conversationId)}/activities/${encodeURIComponent(activityId)}`;
    await this.call(serviceUrl, 'PUT', path, { ...activity, id: activityId });
  }

  private idOf(answer: unknown, what: string): string {
    const parsed = Created.safeParse(answer);
    if (!parsed.success) throw new TeamsCallFailed(200, `the Bot Connector answered without ${what}'s id`);
    return parsed.data.id;
  }

  private async call(serviceUrl: string, method: 'POST' | 'PUT', path: string, body: unknown): Promise<unknown> {
    if (!serviceUrlAllowed(this.cfg.service_url_allow, serviceUrl)) {
      throw new TeamsCallFailed(null, `the service URL ${serviceUrl} is not in notifications.teams.service_url_allow`);
    }
    const token = await this.tokens.get();
    try {
      return await callTeams(
        connectorUrl(serviceUrl, path),
        { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) },
        this.cfg.timeout,
      );
    } catch (e) {
      if (e instanceof TeamsCallFailed && e.status === 401) this.tokens.forget();
      throw e;
    }
  }
}
