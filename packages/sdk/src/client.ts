import { CountersignError } from './errors.js';
import type { CountersignEvent, EventOf, EventType } from './event-types.js';
import { type EventFilter, type FollowOptions, followEvents } from './events.js';
import { type CallContext, type Guarded, type GuardOptions, guard } from './guard.js';
import { sleep } from './sleep.js';
import { parseSse } from './sse.js';
import { activeTraceHeaders, loadOtelApi, type TraceHeaders, traceHeaderEntries } from './trace-context.js';
import { type Action, isDecided, type ProposedAction } from './types.js';
import { wireJson } from './wire-json.js';

export interface ClientOptions {
  /** Base URL of the gateway, e.g. `http://127.0.0.1:8700`. */
  url: string;
  /** The agent's API key (`cs_…`). */
  apiKey: string;
  /** A fetch implementation (default: the global one). */
  fetch?: typeof fetch;
  /** Longest single long-poll, in seconds (the gateway caps it; default 30). */
  longPollSeconds?: number;
  /**
   * Send the active OpenTelemetry span's `traceparent` with each request, when `@opentelemetry/api` is
   * installed (default true), so the gateway's spans join the agent's trace. A call's own `trace` wins.
   */
  propagateTrace?: boolean;
}

/** A call's W3C trace context, sent as `traceparent` / `tracestate` instead of the active span's. */
export interface TraceOption {
  trace?: TraceHeaders;
}

/** A reviewer's decision; `arguments` present = edit and approve. */
export interface ReviewInput {
  decision: 'approve' | 'deny';
  reason?: string;
  arguments?: Record<string, unknown>;
  /** Vote for this person (email or user id) under a delegation of theirs you hold; the vote counts as theirs. */
  for?: string;
}

export interface WaitOptions {
  /** Stop waiting (the action stays pending at the gateway). */
  signal?: AbortSignal;
  /** Give up after this many milliseconds and return the action as it is (default: wait until decided). */
  timeout?: number;
}

export interface RedeemResult {
  action_id: string;
  jti: string;
  redeemed_at: string;
}

/**
 * A Countersign client for an agent.
 *
 * @example
 * const cs = createClient({ url: 'http://127.0.0.1:8700', apiKey: process.env.COUNTERSIGN_KEY! });
 * const action = await cs.propose({ tool: 'deploy', arguments: { env: 'production' } }, { idempotencyKey: toolCallId });
 * const decided = await cs.waitForDecision(action.id);
 */
export class Client {
  readonly url: string;
  private readonly key: string;
  private readonly fetchImpl: typeof fetch;
  private readonly longPollSeconds: number;
  private readonly propagateTrace: boolean;
  private otel: ReturnType<typeof loadOtelApi> | undefined;

  constructor(opts: ClientOptions) {
    this.url = opts.url.replace(/\/+$/, '');
    this.key = opts.apiKey;
    this.fetchImpl = opts.fetch ?? globalThis.fetch.bind(globalThis);
    this.longPollSeconds = opts.longPollSeconds ?? 30;
    this.propagateTrace = opts.propagateTrace ?? true;
  }

  /** The trace headers for a request: the call's own, else the active span's (when propagating). */
  private async traceFor(explicit: TraceHeaders | undefined): Promise<Record<string, string>> {
    if (explicit) return traceHeaderEntries(explicit);
    if (!this.propagateTrace) return {};
    this.otel ??= loadOtelApi();
    return traceHeaderEntries(activeTraceHeaders(await this.otel));
  }

  /** Low-level request: JSON in, JSON out, gateway errors as CountersignError. */
  async request<T>(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    init: { headers?: Record<string, string>; signal?: AbortSignal; trace?: TraceHeaders | undefined } = {},
  ): Promise<T> {
    // Serialized before the try: a value JSON cannot carry is the caller's error, not an unreachable gateway.
    const text = body === undefined ? undefined : wireJson(body);
    const traceHeaders = await this.traceFor(init.trace);
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.key}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...traceHeaders,
          ...init.headers,
        },
        ...(text === undefined ? {} : { body: text }),
        ...(init.signal ? { signal: init.signal } : {}),
      });
    } catch (e) {
      if (init.signal?.aborted) throw e;
      throw new CountersignError('unavailable', `cannot reach the gateway at ${this.url}: ${(e as Error).message}`);
    }
    const answer = await res.text();
    let json: unknown;
    try {
      json = answer === '' ? undefined : (JSON.parse(answer) as unknown);
    } catch {
      // Not the gateway's envelope: a load balancer's or proxy's own error page (an nginx 502, say).
      if (res.ok) throw new CountersignError('internal', `the gateway answered ${res.status} with a body that is not JSON`, res.status);
    }
    if (!res.ok) {
      const err = (json as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | undefined)?.error;
      // A 502/503/504 without the envelope comes from something in front of the gateway: a node is down or
      // restarting, which a retry (same Idempotency-Key) can get past, like the gateway's own `unavailable`.
      const code = err?.code ?? (res.status >= 502 && res.status <= 504 ? 'unavailable' : 'internal');
      throw new CountersignError(code, err?.message ?? `the gateway answered ${res.status}`, res.status, err?.details);
    }
    return json as T;
  }

  /**
   * Proposes an action. With an `idempotencyKey` (derive it from the tool-call id) a retry, or an agent
   * restarted mid-wait, gets the same action back instead of creating another.
   *
   * @example
   * const action = await cs.propose(
   *   { tool: 'deploy', arguments: { env: 'production' }, resource: 'env:production', purpose: 'ship v2' },
   *   { idempotencyKey: `tool-call:deploy:${call.id}` },
   * );
   * // action.status: 'approved' (the policy allowed it), 'denied', or 'pending' (a person decides)
   *
   * With `redeem: true`, an action the policy approves at once comes back already redeemed
   * (`action.redeemed === true`): run it now, without calling {@link Client.redeem}. That saves a
   * request and a durable write on every allowed call. A replay of the same Idempotency-Key does not
   * carry `redeemed`, and redeeming it then fails with `receipt_used`: only one answer licenses the run.
   */
  propose(action: ProposedAction, opts: { idempotencyKey?: string; redeem?: boolean } & TraceOption = {}): Promise<Action> {
    const path = opts.redeem ? '/v1/actions?redeem=true' : '/v1/actions';
    return this.request('POST', path, action, {
      ...(opts.idempotencyKey ? { headers: { 'idempotency-key': opts.idempotencyKey } } : {}),
      trace: opts.trace,
    });
  }

  /** Parallel tool calls: several actions, each decided on its own. */
  proposeBatch(
    actions: ProposedAction[],
    opts: { idempotencyKey?: string } = {},
  ): Promise<{ batch_id: string; decided: boolean; actions: Action[] }> {
    return this.request(
      'POST',
      '/v1/actions/batch',
      { actions },
      opts.idempotencyKey ? { headers: { 'idempotency-key': opts.idempotencyKey } } : {},
    );
  }

  /**
   * The action as it is now (agents see only their own).
   *
   * @example
   * const { status, arguments: approved, reason } = await cs.getAction(id);
   */
  getAction(id: string, opts: { signal?: AbortSignal } = {}): Promise<Action> {
    return this.request('GET', `/v1/actions/${encodeURIComponent(id)}`, undefined, opts.signal ? { signal: opts.signal } : {});
  }

  /**
   * Waits until the action is decided, over SSE (resuming with Last-Event-ID
   * after a dropped connection or a gateway restart), falling back to
   * long-polling when the stream is unavailable (e.g. a proxy that buffers it).
   * Returns the decided action; on `timeout` or abort, the action as it is then.
   *
   * @example
   * const decided = await cs.waitForDecision(action.id, { timeout: 10 * 60_000, signal });
   * if (decided.status === 'approved') run(decided.arguments); // the approved (possibly edited) arguments
   * else console.log(refusalMessage(decided));
   */
  async waitForDecision(id: string, opts: WaitOptions = {}): Promise<Action> {
    const deadline = opts.timeout === undefined ? Number.POSITIVE_INFINITY : Date.now() + opts.timeout;
    let lastEventId: string | undefined;
    let sseFailures = 0;
    let backoff = 100;
    let last: Action | undefined;
    while (!opts.signal?.aborted && Date.now() < deadline) {
      try {
        last = await this.getAction(id, opts.signal ? { signal: opts.signal } : {});
        if (isDecided(last.status) || opts.signal?.aborted) return last;
        const decided =
          sseFailures < 3
            ? await this.waitOverSse(id, lastEventId, deadline, opts.signal, (e) => (lastEventId = e))
            : await this.longPoll(id, deadline, opts.signal);
        if (decided) return decided;
        backoff = 100;
      } catch (e) {
        if (e instanceof CountersignError && !['unavailable', 'internal'].includes(e.code) && e.status !== undefined && e.status < 500) {
          if (e.code === 'not_found' || e.code === 'unauthenticated' || e.code === 'forbidden') throw e;
          sseFailures += 1; // The stream itself was refused: try long-polling.
        }
        // The gateway is restarting or unreachable: try again shortly.
        await sleep(Math.min(backoff, Math.max(0, deadline - Date.now())), opts.signal);
        backoff = Math.min(backoff * 2, 5000);
      }
    }
    return last ?? (await this.getAction(id));
  }

  private async waitOverSse(
    id: string,
    lastEventId: string | undefined,
    deadline: number,
    signal: AbortSignal | undefined,
    onId: (id: string) => void,
  ): Promise<Action | undefined> {
    const ctl = new AbortController();
    const stop = () => ctl.abort();
    signal?.addEventListener('abort', stop, { once: true });
    // An abort that came before the listener was added would otherwise never end this wait.
    if (signal?.aborted) ctl.abort();
    const timer = Number.isFinite(deadline) ? setTimeout(stop, Math.max(0, deadline - Date.now())) : undefined;
    try {
      const res = await this.fetchImpl(`${this.url}/v1/events?action=${encodeURIComponent(id)}`, {
        headers: {
          authorization: `Bearer ${this.key}`,
          accept: 'text/event-stream',
          ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
        },
        signal: ctl.signal,
      });
      if (!res.ok || !res.body || !(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
        await res.body?.cancel();
        throw new CountersignError(
          'invalid_request',
          `the event stream is unavailable (${res.status})`,
          res.status < 500 ? res.status : 400,
        );
      }
      // The gateway subscribes before it answers, so a decision from here on arrives on the stream;
      // one made before it is seen by this read. Reading first would leave a gap between the two.
      const now = await this.getAction(id);
      if (isDecided(now.status)) {
        await res.body.cancel().catch(() => undefined);
        return now;
      }
      for await (const msg of parseSse(res.body)) {
        if (msg.id) onId(msg.id);
        if (msg.data === '') continue;
        const ev = JSON.parse(msg.data) as CountersignEvent;
        if ('action' in ev && isDecided(ev.action.status)) return ev.action;
      }
      return undefined;
    } catch (e) {
      if (ctl.signal.aborted) return undefined;
      throw e instanceof CountersignError ? e : new CountersignError('unavailable', `event stream dropped: ${(e as Error).message}`);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', stop);
    }
  }

  private async longPoll(id: string, deadline: number, signal: AbortSignal | undefined): Promise<Action | undefined> {
    const seconds = Math.max(0, Math.min(this.longPollSeconds, Math.floor((deadline - Date.now()) / 1000)));
    const a = await this.request<Action>(
      'GET',
      `/v1/actions/${encodeURIComponent(id)}?wait=${seconds}`,
      undefined,
      signal ? { signal } : {},
    );
    return isDecided(a.status) ? a : undefined;
  }

  /**
   * Marks the approval receipt used (once). Run the action only after this succeeds: a second redeem of
   * the same receipt fails with `receipt_used`, which is what keeps an approved action from running twice.
   *
   * @example
   * await cs.redeem(decided);                 // throws CountersignError('receipt_used' | 'receipt_expired' | …)
   * const output = await runDeploy(decided.arguments);
   * await cs.reportResult(decided.id, 'succeeded', output);
   */
  redeem(action: Action, opts: TraceOption = {}): Promise<RedeemResult> {
    if (!action.receipt) throw new CountersignError('receipt_invalid', `action ${action.id} has no receipt (status ${action.status})`);
    return this.request(
      'POST',
      '/v1/receipts/redeem',
      {
        receipt: action.receipt,
        action: { id: action.id, tool: action.tool, arguments: action.arguments, resource: action.resource },
      },
      { trace: opts.trace },
    );
  }

  /**
   * Reports how running an approved action went (once); the action becomes `executed` or `failed`, and a
   * restarted agent that proposes the same call again gets the recorded output instead of running it.
   *
   * @example
   * await cs.reportResult(action.id, 'failed', { error: 'deploy timed out' });
   */
  reportResult(id: string, outcome: 'succeeded' | 'failed', output?: unknown, opts: TraceOption = {}): Promise<Action> {
    return this.request(
      'POST',
      `/v1/actions/${encodeURIComponent(id)}/result`,
      { outcome, ...(output === undefined ? {} : { output }) },
      { trace: opts.trace },
    );
  }

  /**
   * Records a person's decision (this client must hold a **human** reviewer's key: agent keys can never
   * decide). `arguments` = edit and approve. Used by harnesses whose own UI collects the decision.
   *
   * @example
   * const reviewer = createClient({ url, apiKey: process.env.COUNTERSIGN_REVIEWER_KEY! });
   * await reviewer.review(approvalId, { decision: 'deny', reason: 'not during the freeze' });
   */
  review(id: string, decision: ReviewInput): Promise<Action> {
    return this.request('POST', `/v1/actions/${encodeURIComponent(id)}/reviews`, decision);
  }

  /**
   * Follows the gateway's event stream (SSE) with automatic reconnect: resumes after the last event seen
   * (`Last-Event-ID`), so nothing is missed across a dropped connection or a gateway restart. Ends when
   * `signal` aborts. If it resumes from before the oldest event retention kept, it throws {@link EventsReset}
   * (or calls `opts.onReset` and goes on from the head), so a gap is never silent.
   *
   * @example
   * for await (const ev of cs.events({ session: runId, types: ['tool.approval_required'] }, { signal })) {
   *   console.log('needs approval:', ev.action.tool, ev.action.arguments, ev.action_id);
   * }
   */
  events<T extends EventType = EventType>(
    filter: EventFilter & { types?: readonly T[] } = {},
    opts: FollowOptions = {},
  ): AsyncGenerator<EventOf<T>> {
    return followEvents<T>({ url: this.url, apiKey: this.key, fetch: this.fetchImpl }, filter, opts);
  }

  /**
   * Withdraws a pending action (the agent no longer needs it); it can never be approved afterwards.
   *
   * @example
   * await cs.cancel(action.id, 'the user changed their mind');
   */
  cancel(id: string, reason?: string): Promise<Action> {
    return this.request('POST', `/v1/actions/${encodeURIComponent(id)}/cancel`, reason ? { reason } : {});
  }

  /**
   * Wraps a tool function: each call is proposed, waits for a decision, and runs with the approved
   * (possibly edited) arguments after redeeming the receipt. See {@link guard}.
   *
   * @example
   * const deploy = cs.guard(async (args: { env: string }) => doDeploy(args.env), { tool: 'deploy' });
   * const out = await deploy({ env: 'staging' }, { toolCallId: 'call_123' });
   * if (isRefusal(out)) return out.message; // "Denied by alice@…: not during the freeze. …"
   */
  guard<A extends Record<string, unknown>, R>(fn: (args: A, ctx: CallContext) => R | Promise<R>, opts: GuardOptions<A>): Guarded<A, R> {
    return guard(this, fn, opts);
  }

  /** The gateway's public keys, for verifying receipts offline. */
  jwks(): Promise<{ keys: Record<string, unknown>[] }> {
    return this.request('GET', '/.well-known/jwks.json');
  }
}

/**
 * Makes a client for one agent key (or a person's key, for `review`).
 *
 * @example
 * import { createClient } from '@countersign/sdk';
 * const cs = createClient({ url: 'http://127.0.0.1:8700', apiKey: process.env.COUNTERSIGN_AGENT_KEY! });
 */
export function createClient(opts: ClientOptions): Client {
  return new Client(opts);
}
