/*
 * A local stand-in for the Microsoft side of a Teams bot, checking every call as the real services would:
 * - the Entra token endpoint (client credentials: the app id and password it was given, the Bot Connector scope);
 * - the Bot Connector (v3): a Bearer token it issued, the conversation and activity shapes, the Adaptive
 *   Card essentials (version, element and action types, Action.Execute verbs, refresh.userIds ≤ 60), PUT
 *   only to an activity that exists in that conversation; it records every call and answers 429/500 on demand;
 * - the Bot Framework OpenID metadata and JWKS (keys endorsed for msteams, one that is not), and a signer
 *   that makes inbound activity tokens as Bot Framework does, right and wrong;
 * - a Teams Workflows incoming webhook that takes notify-only cards.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';

export const APP_ID = '7d1b6e0c-2f4a-4b7e-9c1d-0a2b3c4d5e6f';
export const APP_PASSWORD = 'bot-secret-for-tests';
export const TENANT = '3f2504e0-4f89-11d3-9a0c-0305e82c3301';
export const ISSUER = 'https://api.botframework.com';

export interface ConnectorCall {
  method: 'POST' | 'PUT';
  path: string;
  conversationId: string;
  activityId: string | null;
  body: Record<string, unknown>;
  status: number;
  /** When the stand-in received it (performance.now(), for the benchmark). */
  at: number;
}

export interface StoredActivity {
  conversationId: string;
  id: string;
  card: Record<string, unknown>;
  versions: number;
}

type KeyName = 'good' | 'unendorsed' | 'unknown';

const ELEMENTS = new Set(['TextBlock', 'RichTextBlock', 'Input.Text', 'FactSet', 'Container', 'ColumnSet']);
const ACTIONS = new Set(['Action.Execute', 'Action.OpenUrl', 'Action.Submit']);

/** The Adaptive Card essentials the Connector and the Teams client hold a card to; the first problem, or null. */
export function cardProblem(card: unknown): string | null {
  if (typeof card !== 'object' || card === null) return 'the card is not an object';
  const c = card as Record<string, unknown>;
  if (c.type !== 'AdaptiveCard') return 'type must be AdaptiveCard';
  if (c.version !== '1.5') return 'Universal Actions need version 1.5';
  if (!Array.isArray(c.body)) return 'body must be an array';
  for (const el of c.body as Record<string, unknown>[]) {
    if (!ELEMENTS.has(String(el.type))) return `unknown element ${String(el.type)}`;
    if (el.type === 'TextBlock' && typeof el.text !== 'string') return 'a TextBlock needs text';
    if (el.type === 'RichTextBlock') {
      if (!Array.isArray(el.inlines)) return 'a RichTextBlock needs inlines';
      for (const r of el.inlines as Record<string, unknown>[])
        if (r.type !== 'TextRun' || typeof r.text !== 'string') return 'inlines are TextRuns';
    }
    if (el.type === 'Input.Text' && typeof el.id !== 'string') return 'an input needs an id';
  }
  for (const a of (c.actions ?? []) as Record<string, unknown>[]) {
    if (!ACTIONS.has(String(a.type))) return `unknown action ${String(a.type)}`;
    if (a.type === 'Action.Execute' && (typeof a.verb !== 'string' || typeof a.data !== 'object'))
      return 'Action.Execute needs a verb and data';
    if (a.type === 'Action.OpenUrl' && !/^https?:\/\//.test(String(a.url))) return 'Action.OpenUrl needs an http(s) url';
  }
  if (c.refresh !== undefined) {
    const r = c.refresh as { action?: { type?: string; verb?: string }; userIds?: unknown };
    if (r.action?.type !== 'Action.Execute' || typeof r.action.verb !== 'string') return 'refresh.action must be an Action.Execute';
    if (!Array.isArray(r.userIds) || r.userIds.length > 60 || !r.userIds.every((u) => typeof u === 'string')) {
      return 'refresh.userIds must be at most 60 user ids';
    }
  }
  return null;
}

/** The card inside a message activity with one Adaptive Card attachment, or the problem with it. */
function cardOf(activity: Record<string, unknown>): { card: Record<string, unknown> } | { problem: string } {
  if (activity.type !== 'message') return { problem: 'activity type must be message' };
  const atts = activity.attachments as Record<string, unknown>[] | undefined;
  if (!Array.isArray(atts) || atts.length !== 1) return { problem: 'one attachment expected' };
  const att = atts[0] as Record<string, unknown>;
  if (att.contentType !== 'application/vnd.microsoft.card.adaptive') return { problem: 'the attachment is not an Adaptive Card' };
  const problem = cardProblem(att.content);
  return problem ? { problem } : { card: att.content as Record<string, unknown> };
}

export class TeamsStandIn {
  private server: Server | undefined;
  base = '';
  readonly calls: ConnectorCall[] = [];
  readonly activities = new Map<string, StoredActivity>();
  /** Replies to activities (ReplyToActivity), oldest first. */
  readonly replies: { conversationId: string; id: string; replyToId: string; text: string; mentions: { id: string; name: string }[] }[] =
    [];
  readonly conversations = new Map<string, { members: string[] }>();
  readonly workflowPosts: { name: string; body: Record<string, unknown> }[] = [];
  readonly tokenRequests: { ok: boolean }[] = [];
  private readonly issued = new Set<string>();
  /** Statuses the Connector answers next for activity posts and updates, first to last. */
  readonly connectorFailures: number[] = [];
  /** Statuses the Connector answers next for replies (ReplyToActivity) only, first to last. */
  readonly replyFailures: number[] = [];
  /** The Retry-After (seconds) a throttled (429) Connector call answers with. */
  retryAfterSeconds = 5;
  /** Conversations whose posts and updates are answered with this status until cleared. */
  private readonly refusals = new Map<string, number>();
  /** Statuses the Workflows webhook answers next. */
  readonly workflowFailures: number[] = [];
  private keys = new Map<KeyName, { privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey']; jwk: JWK }>();

  get serviceUrl(): string {
    return `${this.base}/connector/`;
  }

  async start(): Promise<void> {
    for (const name of ['good', 'unendorsed', 'unknown'] as const) {
      const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
      const jwk = { ...(await exportJWK(publicKey)), kid: `${name}-${randomBytes(4).toString('hex')}`, use: 'sig', alg: 'RS256' };
      this.keys.set(name, { privateKey, jwk });
    }
    this.server = createServer((req, res) => {
      let raw = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => {
        raw += c;
      });
      req.on('end', () => this.handle(req, res, raw));
    });
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  /** A Bot Framework token for an inbound activity, as the channel service signs one; `wrong` makes it wrong in one way. */
  async sign(
    nowMs: number,
    serviceUrl: string,
    wrong: { key?: KeyName; issuer?: string; audience?: string; expiresInS?: number; serviceUrl?: string } = {},
  ): Promise<string> {
    const key = this.keys.get(wrong.key ?? 'good');
    if (!key) throw new Error('no key');
    const now = Math.floor(nowMs / 1000);
    return new SignJWT({ serviceUrl: wrong.serviceUrl ?? serviceUrl })
      .setProtectedHeader({ alg: 'RS256', kid: key.jwk.kid ?? '', typ: 'JWT' })
      .setIssuer(wrong.issuer ?? ISSUER)
      .setAudience(wrong.audience ?? APP_ID)
      .setIssuedAt(now - 5)
      .setNotBefore(now - 5)
      .setExpirationTime(now + (wrong.expiresInS ?? 3600))
      .sign(key.privateKey);
  }

  /** Answers every post and update in this conversation with `status` (429, 500…) until called with null. */
  refuse(conversationId: string, status: number | null): void {
    if (status === null) this.refusals.delete(conversationId);
    else this.refusals.set(conversationId, status);
  }

  /** The cards the Connector holds now for a conversation, oldest first. */
  cardsIn(conversationId: string): StoredActivity[] {
    return [...this.activities.values()].filter((a) => a.conversationId === conversationId);
  }

  private json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): true {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
    return true;
  }

  private handle(req: IncomingMessage, res: ServerResponse, raw: string) {
    const url = new URL(req.url ?? '/', this.base);
    const path = url.pathname;
    if (req.method === 'GET' && path === '/openid') {
      return this.json(res, 200, { issuer: ISSUER, jwks_uri: `${this.base}/keys`, id_token_signing_alg_values_supported: ['RS256'] });
    }
    if (req.method === 'GET' && path === '/keys') {
      const good = this.keys.get('good')?.jwk;
      const unendorsed = this.keys.get('unendorsed')?.jwk;
      return this.json(res, 200, {
        keys: [
          { ...good, endorsements: ['msteams', 'skype'] },
          { ...unendorsed, endorsements: ['webchat'] },
        ],
      });
    }
    if (req.method === 'POST' && path === '/token') return this.token(res, raw, req.headers['content-type']);
    if (req.method === 'POST' && path.startsWith('/workflow/')) return this.workflow(res, path.slice('/workflow/'.length), raw);
    if (path.startsWith('/connector/v3/conversations'))
      return this.connector(req, res, path.slice('/connector/v3/conversations'.length), raw);
    this.json(res, 404, { error: 'no such endpoint' });
  }

  private token(res: ServerResponse, raw: string, type: string | undefined) {
    const form = new URLSearchParams(raw);
    const ok =
      type === 'application/x-www-form-urlencoded' &&
      form.get('grant_type') === 'client_credentials' &&
      form.get('client_id') === APP_ID &&
      form.get('client_secret') === APP_PASSWORD &&
      form.get('scope') === 'https://api.botframework.com/.default';
    this.tokenRequests.push({ ok });
    if (!ok) return this.json(res, 401, { error: 'invalid_client' });
    const token = randomBytes(24).toString('base64url');
    this.issued.add(token);
    this.json(res, 200, { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: token });
  }

  private workflow(res: ServerResponse, name: string, raw: string) {
    const failure = this.workflowFailures.shift();
    if (failure !== undefined) return this.json(res, failure, { error: 'try later' });
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return this.json(res, 400, { error: 'not JSON' });
    }
    const got = cardOf(body);
    if ('problem' in got) return this.json(res, 400, { error: got.problem });
    this.workflowPosts.push({ name, body });
    res.writeHead(202);
    res.end();
    return true;
  }

  private connector(req: IncomingMessage, res: ServerResponse, rest: string, raw: string) {
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!bearer || !this.issued.has(bearer)) return this.json(res, 401, { error: { code: 'Unauthorized' } });
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return this.json(res, 400, { error: { code: 'BadSyntax' } });
    }
    const parts = rest
      .split('/')
      .filter((p) => p !== '')
      .map(decodeURIComponent);
    if (req.method === 'POST' && parts.length === 0) return this.createConversation(res, body);
    const conversationId = parts[0] ?? '';
    const record = (status: number, activityId: string | null) =>
      this.calls.push({
        method: req.method as 'POST' | 'PUT',
        path: rest,
        conversationId,
        activityId,
        body,
        status,
        at: performance.now(),
      });
    if (parts[1] !== 'activities' || parts.length > 3) return this.json(res, 404, { error: { code: 'NotFound' } });
    const failure = this.connectorFailures.shift() ?? this.refusals.get(conversationId);
    if (failure !== undefined) {
      record(failure, parts[2] ?? null);
      // Throttling carries Retry-After, as the Bot Connector's 429 does.
      const wait = failure === 429 ? { 'retry-after': String(this.retryAfterSeconds) } : undefined;
      return this.json(res, failure, { error: { code: failure === 429 ? 'Throttled' : 'ServiceError' } }, wait);
    }
    if (req.method === 'POST' && parts.length === 3) return this.reply(res, conversationId, parts[2] ?? '', body, record);
    const got = cardOf(body);
    if ('problem' in got) {
      record(400, parts[2] ?? null);
      return this.json(res, 400, { error: { code: 'BadArgument', message: got.problem } });
    }
    if (req.method === 'POST' && parts.length === 2) {
      const id = `1:${randomUUID()}`;
      this.activities.set(id, { conversationId, id, card: got.card, versions: 1 });
      record(201, id);
      return this.json(res, 201, { id });
    }
    if (req.method === 'PUT' && parts.length === 3) {
      const id = parts[2] ?? '';
      const existing = this.activities.get(id);
      if (!existing || existing.conversationId !== conversationId || body.id !== id) {
        record(404, id);
        return this.json(res, 404, { error: { code: 'ActivityNotFoundInConversation' } });
      }
      this.activities.set(id, { ...existing, card: got.card, versions: existing.versions + 1 });
      record(200, id);
      return this.json(res, 200, { id });
    }
    this.json(res, 405, { error: { code: 'MethodNotAllowed' } });
  }

  /**
   * ReplyToActivity: the activity replied to must be one in this conversation (a card the bot posted), the
   * body's replyToId must name it, and each `mention` entity's text must appear in the message's text with
   * a user id, as Teams renders only those as mentions.
   */
  private reply(
    res: ServerResponse,
    conversationId: string,
    activityId: string,
    body: Record<string, unknown>,
    record: (status: number, activityId: string | null) => void,
  ) {
    const failure = this.replyFailures.shift();
    if (failure !== undefined) {
      record(failure, activityId);
      return this.json(res, failure, { error: { code: failure === 429 ? 'Throttled' : 'ServiceError' } });
    }
    const parent = this.activities.get(activityId);
    if (!parent || parent.conversationId !== conversationId) {
      record(404, activityId);
      return this.json(res, 404, { error: { code: 'ActivityNotFoundInConversation' } });
    }
    const text = typeof body.text === 'string' ? body.text : '';
    const entities = Array.isArray(body.entities) ? (body.entities as Record<string, unknown>[]) : [];
    const mentions = entities
      .filter((e) => e.type === 'mention')
      .map((e) => ({ text: String(e.text ?? ''), ...((e.mentioned ?? {}) as { id?: string; name?: string }) }));
    const bad =
      body.type !== 'message'
        ? 'a reply is a message activity'
        : body.replyToId !== activityId
          ? 'replyToId must name the activity replied to'
          : text === '' && 'problem' in cardOf(body)
            ? 'a reply needs text or a card'
            : mentions.find((m) => !m.id || !m.text.startsWith('<at>') || !text.includes(m.text))
              ? 'a mention entity must name a user and appear in the text'
              : null;
    if (bad) {
      record(400, activityId);
      return this.json(res, 400, { error: { code: 'BadArgument', message: bad } });
    }
    const id = `1:${randomUUID()}`;
    this.replies.push({
      conversationId,
      id,
      replyToId: activityId,
      text,
      mentions: mentions.map((m) => ({ id: m.id ?? '', name: m.name ?? '' })),
    });
    record(201, id);
    return this.json(res, 201, { id });
  }

  private createConversation(res: ServerResponse, body: Record<string, unknown>) {
    const bot = body.bot as { id?: string } | undefined;
    const members = body.members as { id?: string }[] | undefined;
    if (bot?.id !== `28:${APP_ID}` || !Array.isArray(members) || members.length !== 1 || typeof members[0]?.id !== 'string') {
      return this.json(res, 400, { error: { code: 'BadArgument', message: 'bot and one member are required' } });
    }
    if (body.tenantId !== TENANT) return this.json(res, 403, { error: { code: 'TenantMismatch' } });
    const id = `a:${randomBytes(12).toString('hex')}`;
    this.conversations.set(id, { members: [members[0].id] });
    this.json(res, 201, { id });
  }
}
