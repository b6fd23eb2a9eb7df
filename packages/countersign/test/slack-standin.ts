import { createHmac, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { type WebSocket, WebSocketServer } from 'ws';

export const BOT_TOKEN = 'xoxb-1111-2222-standin';
export const APP_TOKEN = 'xapp-1-A111-standin';
export const SIGNING_SECRET = 'slack-standin-signing-secret-8f2a';
export const TEAM = 'T0STANDIN';

/** One Web API call as the stand-in received it. */
export interface SlackCall {
  method: string;
  /** The bearer token it came with. */
  token: string | null;
  contentType: string;
  /** The arguments, decoded (form fields Slack JSON-decodes, like `blocks`, as objects). */
  args: Record<string, unknown>;
  /** What the stand-in answered: `ok` and `error`, or the HTTP status it failed with. */
  status: number;
  ok: boolean;
  error: string | null;
  /** performance.now() when it was answered (for the benchmark; tests never assert times). */
  at: number;
}

interface Posted {
  channel: string;
  ts: string;
  text: string;
  blocks: unknown[];
  thread_ts: string | null;
}

type Failure = { status: 429; retryAfter: number } | { status: 500 };

/** Fields Slack decodes from JSON when a form body carries them. */
const JSON_FIELDS = new Set(['blocks', 'attachments', 'view', 'metadata']);
const REQUIRED: Record<string, string[]> = {
  'chat.postMessage': ['channel'],
  'chat.update': ['channel', 'ts'],
  'chat.postEphemeral': ['channel', 'user'],
  'views.open': ['trigger_id', 'view'],
  'conversations.open': [],
  'users.info': ['user'],
  'apps.connections.open': [],
};

/**
 * A local stand-in for Slack: the Web API methods Countersign calls, each checked as Slack checks it
 * (the bearer token of the right kind, a form or JSON body, the required fields, Block Kit limits), every
 * call recorded, 429 (with Retry-After) or 500 on demand; inbound interaction requests signed with the
 * signing secret exactly as Slack signs them; and a Socket Mode WebSocket that sends envelopes and waits
 * for their acknowledgements.
 */
export class SlackStandIn {
  readonly calls: SlackCall[] = [];
  /** Messages in conversations, by `channel/ts`. */
  readonly messages = new Map<string, Posted>();
  /** The replies in a message's thread, oldest first. */
  repliesTo(channel: string, ts: string): Posted[] {
    return [...this.messages.values()].filter((m) => m.channel === channel && m.thread_ts === ts);
  }

  /** Messages that start a conversation line (not thread replies), in a channel or DM, oldest first. */
  topLevel(channel?: string): Posted[] {
    return [...this.messages.values()].filter((m) => m.thread_ts === null && (channel === undefined || m.channel === channel));
  }

  /** Emails users.info reports, by Slack user id. */
  readonly emails = new Map<string, string>();
  private readonly failures: { method: string; failure: Failure }[] = [];
  private readonly triggers = new Map<string, number>();
  private server: Server | undefined;
  private wss: WebSocketServer | undefined;
  private readonly sockets = new Set<WebSocket>();
  private readonly acks = new Map<string, (payload: unknown) => void>();
  private seq = 0;
  private readonly waiters = new Set<() => void>();
  /** Told of every call as it is answered (the benchmark indexes them). */
  readonly listeners = new Set<(call: SlackCall) => void>();
  port = 0;

  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api/`;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const { status, body, headers } = this.answer(req, Buffer.concat(chunks).toString('utf8'));
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
        res.end(JSON.stringify(body));
      });
    });
    this.wss = new WebSocketServer({ noServer: true });
    this.server.on('upgrade', (req, socket, head) => {
      if (!req.url?.startsWith('/link/')) return socket.destroy();
      this.wss?.handleUpgrade(req, socket, head, (ws) => this.onSocket(ws));
    });
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.port = (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    this.wss?.close();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** The next `times` calls of `method` fail this way (429 with Retry-After, or 500). */
  fail(method: string, failure: Failure, times = 1): void {
    for (let i = 0; i < times; i++) this.failures.push({ method, failure });
  }

  clearFailures(): void {
    this.failures.length = 0;
  }

  /** Resolves once `check` holds, re-checked after every call the stand-in answers. */
  until(check: () => boolean): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        if (!check()) return;
        this.waiters.delete(wake);
        resolve();
      };
      this.waiters.add(wake);
    });
  }

  callsOf(method: string, ok = true): SlackCall[] {
    return this.calls.filter((c) => c.method === method && (!ok || c.ok));
  }

  // ----- inbound: what Slack sends to the gateway -----

  /** A block_actions payload as Slack sends it when `user` clicks the button `actionId` on the message at channel/ts. */
  click(o: { user: string; team?: string; channel: string; ts: string; actionId: string; value?: string }): Record<string, unknown> {
    const trigger = this.trigger();
    return {
      type: 'block_actions',
      user: { id: o.user, username: o.user.toLowerCase(), name: o.user.toLowerCase(), team_id: o.team ?? TEAM },
      api_app_id: 'A0STANDIN',
      token: 'deprecated-verification-token',
      container: { type: 'message', message_ts: o.ts, channel_id: o.channel, is_ephemeral: false },
      trigger_id: trigger,
      team: { id: o.team ?? TEAM, domain: 'standin' },
      channel: { id: o.channel, name: 'review' },
      message: { type: 'message', ts: o.ts, text: 'Approval needed' },
      response_url: `http://127.0.0.1:${this.port}/response/${trigger}`,
      actions: [{ action_id: o.actionId, block_id: 'b', value: o.value ?? '', type: 'button', action_ts: '1.1' }],
    };
  }

  /** A view_submission payload: `user` submits the modal `view` (as views.open received it) with this reason. */
  submit(o: { user: string; team?: string; view: Record<string, unknown>; reason: string }): Record<string, unknown> {
    const blocks = (o.view.blocks as { type: string; block_id?: string; element?: { action_id: string } }[]) ?? [];
    const values: Record<string, Record<string, { type: string; value: string }>> = {};
    for (const b of blocks) {
      if (b.type === 'input' && b.block_id && b.element)
        values[b.block_id] = { [b.element.action_id]: { type: 'plain_text_input', value: o.reason } };
    }
    return {
      type: 'view_submission',
      team: { id: o.team ?? TEAM, domain: 'standin' },
      user: { id: o.user, username: o.user.toLowerCase(), name: o.user.toLowerCase(), team_id: o.team ?? TEAM },
      api_app_id: 'A0STANDIN',
      trigger_id: this.trigger(),
      view: { id: 'V0STANDIN', type: 'modal', ...o.view, state: { values } },
    };
  }

  /** The HTTP request Slack would make for this payload: a form body `payload=<json>`, signed with the signing secret at `ts` (Unix s). */
  signed(payload: unknown, o: { secret?: string; ts: number }): { body: string; headers: Record<string, string> } {
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const ts = String(o.ts);
    const sig = `v0=${createHmac('sha256', o.secret ?? SIGNING_SECRET)
      .update(`v0:${ts}:${body}`)
      .digest('hex')}`;
    return {
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': sig },
    };
  }

  /** Sends an interaction over the Socket Mode connection and resolves with the client's acknowledgement payload. */
  async envelope(payload: unknown, timeoutMs = 5_000): Promise<unknown> {
    const ws = [...this.sockets].find((s) => s.readyState === s.OPEN);
    if (!ws) throw new Error('no Socket Mode connection');
    const id = randomBytes(8).toString('hex');
    const acked = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`envelope ${id} was not acknowledged`)), timeoutMs);
      this.acks.set(id, (p) => {
        clearTimeout(timer);
        resolve(p);
      });
    });
    ws.send(JSON.stringify({ envelope_id: id, type: 'interactive', payload, accepts_response_payload: true }));
    return acked;
  }

  get socketCount(): number {
    return [...this.sockets].filter((s) => s.readyState === s.OPEN).length;
  }

  // ----- the Web API -----

  private trigger(): string {
    const t = `${++this.seq}.${randomBytes(6).toString('hex')}`;
    this.triggers.set(t, Date.now());
    return t;
  }

  private onSocket(ws: WebSocket): void {
    this.sockets.add(ws);
    ws.on('close', () => this.sockets.delete(ws));
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as { envelope_id?: string; payload?: unknown };
      if (msg.envelope_id) this.acks.get(msg.envelope_id)?.(msg.payload ?? {});
    });
    ws.send(JSON.stringify({ type: 'hello', num_connections: this.sockets.size, debug_info: { host: 'standin' } }));
  }

  private answer(req: IncomingMessage, raw: string): { status: number; body: unknown; headers?: Record<string, string> } {
    const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0] ?? '';
    const contentType = String(req.headers['content-type'] ?? '');
    const auth = String(req.headers.authorization ?? '');
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : null;
    let args: Record<string, unknown> = {};
    let error: string | null = null;
    if (req.method !== 'POST') error = 'method_not_allowed';
    else if (contentType.startsWith('application/json')) {
      try {
        args = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        error = 'invalid_json';
      }
    } else if (contentType.startsWith('application/x-www-form-urlencoded')) {
      for (const [k, v] of new URLSearchParams(raw)) {
        try {
          args[k] = JSON_FIELDS.has(k) ? JSON.parse(v) : v;
        } catch {
          error = `invalid_${k}`;
        }
      }
    } else error = 'invalid_form_data';
    const record = (status: number, ok: boolean, err: string | null) => {
      this.calls.push({ method, token, contentType, args, status, ok, error: err, at: performance.now() });
      const call = this.calls.at(-1) as SlackCall;
      for (const listen of this.listeners) listen(call);
      for (const wake of this.waiters) wake();
    };
    const failAt = this.failures.findIndex((f) => f.method === method);
    if (failAt >= 0) {
      const [f] = this.failures.splice(failAt, 1);
      const failure = f?.failure as Failure;
      record(failure.status, false, failure.status === 429 ? 'ratelimited' : 'internal_error');
      return failure.status === 429
        ? { status: 429, body: { ok: false, error: 'ratelimited' }, headers: { 'retry-after': String(failure.retryAfter) } }
        : { status: 500, body: { ok: false, error: 'internal_error' } };
    }
    const result = error ? { error } : this.call(method, token, args);
    record(200, !('error' in result), 'error' in result ? String(result.error) : null);
    return { status: 200, body: 'error' in result ? { ok: false, ...result } : { ok: true, ...result } };
  }

  private call(method: string, token: string | null, a: Record<string, unknown>): Record<string, unknown> {
    const required = REQUIRED[method];
    if (!required) return { error: 'unknown_method' };
    const wanted = method === 'apps.connections.open' ? APP_TOKEN : BOT_TOKEN;
    if (token === null) return { error: 'not_authed' };
    if (token !== wanted) return { error: token.startsWith('xox') || token.startsWith('xapp') ? 'not_allowed_token_type' : 'invalid_auth' };
    for (const f of required) if (a[f] === undefined || a[f] === '') return { error: `missing_argument:${f}` };
    switch (method) {
      case 'chat.postMessage': {
        const bad = checkMessage(a);
        if (bad) return { error: bad };
        const channel = String(a.channel);
        if (!/^[CGD][A-Z0-9]+$/.test(channel)) return { error: 'channel_not_found' };
        const thread = a.thread_ts === undefined ? null : String(a.thread_ts);
        if (thread !== null && !this.messages.has(`${channel}/${thread}`)) return { error: 'thread_not_found' };
        // A broadcast is a thread reply also shown in the channel: without a thread it means nothing.
        if (a.reply_broadcast !== undefined && ![true, false, 'true', 'false'].includes(a.reply_broadcast as string | boolean))
          return { error: 'invalid_arguments' };
        if (thread === null && (a.reply_broadcast === true || a.reply_broadcast === 'true')) return { error: 'invalid_arguments' };
        const ts = `1700000000.${String(++this.seq).padStart(6, '0')}`;
        const posted = { channel, ts, text: String(a.text ?? ''), blocks: (a.blocks as unknown[]) ?? [], thread_ts: thread };
        this.messages.set(`${channel}/${ts}`, posted);
        return { channel, ts, message: { type: 'message', text: posted.text, ts } };
      }
      case 'chat.update': {
        const key = `${String(a.channel)}/${String(a.ts)}`;
        const found = this.messages.get(key);
        if (!found) return { error: 'message_not_found' };
        const bad = checkMessage(a);
        if (bad) return { error: bad };
        found.text = String(a.text ?? '');
        found.blocks = (a.blocks as unknown[]) ?? [];
        return { channel: found.channel, ts: found.ts, text: found.text };
      }
      case 'chat.postEphemeral': {
        if (typeof a.text !== 'string' || a.text.length === 0) return { error: 'no_text' };
        return { message_ts: `1700000000.${String(++this.seq).padStart(6, '0')}` };
      }
      case 'views.open': {
        const issued = this.triggers.get(String(a.trigger_id));
        if (issued === undefined || Date.now() - issued > 3_000) return { error: 'expired_trigger_id' };
        this.triggers.delete(String(a.trigger_id));
        const bad = checkView(a.view);
        if (bad) return { error: bad };
        return { view: { id: `V${++this.seq}`, ...(a.view as object) } };
      }
      case 'conversations.open': {
        const users = String(a.users ?? '');
        if (!/^[UW][A-Z0-9]+$/.test(users)) return { error: 'user_not_found' };
        return { channel: { id: `D${users.slice(1)}` } };
      }
      case 'users.info': {
        const user = String(a.user);
        const email = this.emails.get(user);
        return { user: { id: user, team_id: TEAM, name: user.toLowerCase(), is_email_confirmed: true, profile: email ? { email } : {} } };
      }
      case 'apps.connections.open':
        return { url: `ws://127.0.0.1:${this.port}/link/?ticket=${randomBytes(8).toString('hex')}` };
      default:
        return { error: 'unknown_method' };
    }
  }
}

type Obj = Record<string, unknown>;

/** A text object: plain_text or mrkdwn, with text within `max`. */
function badText(t: unknown, max: number, plainOnly = false): string | null {
  const o = t as Obj | undefined;
  if (!o || typeof o.text !== 'string') return 'missing text';
  if (o.type !== 'plain_text' && (plainOnly || o.type !== 'mrkdwn')) return `text type ${String(o.type)}`;
  if (o.text.length === 0) return 'empty text';
  if (o.text.length > max) return `text longer than ${max}`;
  return null;
}

function badElement(e: Obj): string | null {
  if (typeof e.action_id === 'string' && e.action_id.length > 255) return 'action_id longer than 255';
  if (typeof e.value === 'string' && e.value.length > 2000) return 'value longer than 2000';
  if (e.type === 'button') {
    if (typeof e.url === 'string' && e.url.length > 3000) return 'url longer than 3000';
    if (e.style !== undefined && e.style !== 'primary' && e.style !== 'danger') return 'bad button style';
    return badText(e.text, 75, true);
  }
  if (e.type === 'plain_text_input') return null;
  return `element type ${String(e.type)}`;
}

/** Block Kit as Slack validates it, for the block types Countersign sends. */
function badBlock(b: Obj): string | null {
  if (typeof b.block_id === 'string' && b.block_id.length > 255) return 'block_id longer than 255';
  switch (b.type) {
    case 'header':
      return badText(b.text, 150, true);
    case 'section': {
      if (b.text === undefined && b.fields === undefined) return 'section without text or fields';
      if (b.text !== undefined) {
        const bad = badText(b.text, 3000);
        if (bad) return bad;
      }
      if (b.fields !== undefined) {
        const fields = b.fields as unknown[];
        if (!Array.isArray(fields) || fields.length > 10) return 'more than 10 fields';
        for (const f of fields) {
          const bad = badText(f, 2000);
          if (bad) return bad;
        }
      }
      return null;
    }
    case 'context': {
      const els = b.elements as unknown[];
      if (!Array.isArray(els) || els.length === 0 || els.length > 10) return 'context elements';
      for (const e of els) {
        const bad = badText(e, 3000);
        if (bad) return bad;
      }
      return null;
    }
    case 'actions': {
      const els = b.elements as Obj[];
      if (!Array.isArray(els) || els.length === 0 || els.length > 25) return 'actions elements';
      for (const e of els) {
        const bad = badElement(e);
        if (bad) return bad;
      }
      return null;
    }
    case 'input': {
      const bad = badText(b.label, 2000, true);
      return bad ?? badElement((b.element as Obj) ?? {});
    }
    default:
      return `block type ${String(b.type)}`;
  }
}

function badBlocks(blocks: unknown, max: number): string | null {
  if (!Array.isArray(blocks)) return 'blocks is not an array';
  if (blocks.length > max) return `more than ${max} blocks`;
  for (const b of blocks) {
    const bad = badBlock(b as Obj);
    if (bad) return bad;
  }
  return null;
}

/** A message: text or blocks, text within 40,000 characters, blocks valid. */
export function checkMessage(a: Obj): string | null {
  if (a.text === undefined && a.blocks === undefined) return 'no_text';
  if (typeof a.text === 'string' && a.text.length > 40_000) return 'msg_too_long';
  if (a.blocks !== undefined) {
    const bad = badBlocks(a.blocks, 50);
    if (bad) return `invalid_blocks: ${bad}`;
  }
  return null;
}

function checkView(v: unknown): string | null {
  const view = v as Obj | undefined;
  if (view?.type !== 'modal') return 'invalid_arguments: view type';
  for (const k of ['title', 'submit', 'close'] as const) {
    if (view[k] !== undefined) {
      const bad = badText(view[k], 24, true);
      if (bad) return `invalid_arguments: ${k} ${bad}`;
    }
  }
  if (typeof view.private_metadata === 'string' && view.private_metadata.length > 3000) return 'invalid_arguments: private_metadata';
  if (typeof view.callback_id === 'string' && view.callback_id.length > 255) return 'invalid_arguments: callback_id';
  const bad = badBlocks(view.blocks, 100);
  return bad ? `invalid_arguments: ${bad}` : null;
}
