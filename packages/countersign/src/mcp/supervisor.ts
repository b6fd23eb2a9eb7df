import { ProtocolError, SdkError, SdkErrorCode, SdkHttpError } from '@modelcontextprotocol/client';
import type { Logger } from 'pino';
import { CsError } from '../lib/errors.js';

/**
 * Keeps one upstream connection alive. A stdio server that exits is restarted in the background;
 * an HTTP server that stops answering is reconnected by the next call that needs it. Either way
 * with capped exponential back-off, so a server that dies at start does not spin, and a server
 * that stayed up a while starts again from the shortest delay.
 *
 * What it never does is repeat a call: a call in flight when the connection went may have run
 * upstream (its approval was used), so it answers an error and only later calls use the new
 * connection. At most once, as everywhere in the proxy.
 */
export interface RestartPolicy {
  /** The first delay after a loss; it doubles with each attempt that does not last. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** A connection up this long counts as healthy: the next loss starts again from initialDelayMs. */
  stableAfterMs: number;
  /** The longest a call waits for a reconnection under way before it is answered with an error. */
  callWaitMs: number;
}

export const DEFAULT_RESTART_POLICY: Readonly<RestartPolicy> = Object.freeze({
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  stableAfterMs: 60_000,
  callWaitMs: 10_000,
});

/** The delay before the attempt that follows `attempts` attempts since the last healthy period. */
export function restartDelay(attempts: number, policy: RestartPolicy = DEFAULT_RESTART_POLICY): number {
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.min(attempts, 30));
}

export interface SupervisorOptions {
  server: string;
  /** stdio: restart in the background as soon as the delay is over; HTTP: on the next use after it. */
  eager: boolean;
  /** Opens a new connection and reads what the proxy needs from it; throws if that fails. */
  reconnect: () => Promise<void>;
  /** After a successful reconnection (the tool list is new: the catalogue and the pins look again). */
  reconnected: () => void;
  log: Logger;
  policy?: RestartPolicy;
}

type State = { kind: 'up'; since: number } | { kind: 'down'; retryAt: number; reason: string } | { kind: 'closed' };

export class ConnectionSupervisor {
  private state: State = { kind: 'up', since: Date.now() };
  /** Attempts since the connection was last healthy; the back-off grows with it. */
  private attempts = 0;
  private timer: NodeJS.Timeout | undefined;
  private attempt: Promise<void> | undefined;
  private readonly policy: RestartPolicy;

  constructor(private readonly opts: SupervisorOptions) {
    this.policy = opts.policy ?? DEFAULT_RESTART_POLICY;
  }

  get isUp(): boolean {
    return this.state.kind === 'up';
  }

  /** The connection went away without close(): schedule (stdio) or allow (HTTP) a reconnection. */
  lost(reason: string): void {
    if (this.state.kind !== 'up') return;
    if (Date.now() - this.state.since >= this.policy.stableAfterMs) this.attempts = 0;
    this.goDown(reason);
  }

  /**
   * Resolves once the connection is usable. Throws `unavailable`, naming the server and when it
   * is tried again, if it is not: a call never waits longer than for one reconnection under way.
   */
  async ready(): Promise<void> {
    if (this.state.kind === 'up') return;
    if (this.state.kind === 'down' && !this.opts.eager && this.attempt === undefined && Date.now() >= this.state.retryAt) {
      void this.tryNow();
    }
    if (this.attempt) await waitAtMost(this.attempt, this.policy.callWaitMs);
    // A reconnection may have ended either way while we waited.
    if (!this.isUp) throw this.unavailable();
  }

  /** The error a call gets while the connection is not usable. */
  unavailable(): CsError {
    const s = this.state;
    const server = `the upstream MCP server "${this.opts.server}"`;
    if (s.kind !== 'down') return new CsError('unavailable', `${server} is not connected (the proxy is stopping)`);
    const wait = seconds(Math.max(0, s.retryAt - Date.now()));
    const next = this.opts.eager
      ? this.attempt
        ? 'the proxy is restarting it'
        : `the proxy restarts it in ${wait}`
      : this.attempt
        ? 'the proxy is reconnecting'
        : `a call in ${wait} or later reconnects`;
    return new CsError('unavailable', `${server} is down (${s.reason}); ${next}. Nothing was run`);
  }

  /** Stops reconnecting at once; resolves when an attempt under way has ended, so its connection can be closed after it. */
  async close(): Promise<void> {
    this.state = { kind: 'closed' };
    clearTimeout(this.timer);
    await this.attempt?.catch(() => undefined);
  }

  private goDown(reason: string): void {
    const delayMs = restartDelay(this.attempts, this.policy);
    this.state = { kind: 'down', retryAt: Date.now() + delayMs, reason };
    const { log, eager } = this.opts;
    if (eager) {
      log.error({ reason, retryInMs: delayMs, attempt: this.attempts + 1 }, 'upstream MCP server is down; restarting it');
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.tryNow(), delayMs);
      // Shutting down is close()'s decision, not a pending restart's.
      this.timer.unref();
    } else {
      log.error({ reason, retryInMs: delayMs }, 'lost the upstream MCP server; reconnecting on a later call');
    }
  }

  private tryNow(): Promise<void> {
    this.attempt ??= this.run().finally(() => {
      this.attempt = undefined;
    });
    return this.attempt;
  }

  private async run(): Promise<void> {
    this.attempts += 1;
    try {
      await this.opts.reconnect();
    } catch (err) {
      if (this.state.kind === 'closed') return;
      this.goDown(`the last attempt failed: ${(err as Error).message}`);
      return;
    }
    if (this.state.kind === 'closed') return;
    this.state = { kind: 'up', since: Date.now() };
    this.opts.log.warn(
      { attempt: this.attempts },
      this.opts.eager ? 'upstream MCP server restarted' : 'reconnected to the upstream MCP server',
    );
    try {
      this.opts.reconnected();
    } catch (err) {
      this.opts.log.error({ err }, 'could not take in the restarted upstream MCP server');
    }
  }
}

/**
 * Whether a failed request means the connection is gone (rather than the server answering with
 * an error, or the call timing out or being cancelled). For HTTP this is how a drop is noticed.
 */
export function isConnectionLoss(e: unknown): boolean {
  if (e instanceof ProtocolError) return false;
  // 404: the server forgot the session (it restarted). A 5xx is one request's failure; treating it as a
  // loss would close the connection under every other call in flight.
  if (e instanceof SdkHttpError) return e.status === 404;
  if (e instanceof SdkError) {
    return e.code === SdkErrorCode.ConnectionClosed || e.code === SdkErrorCode.NotConnected || e.code === SdkErrorCode.SendFailed;
  }
  // fetch's network failure, and the SDK's own "no transport" before a reconnection.
  return e instanceof Error && (e.message === 'fetch failed' || e.message === 'Not connected');
}

async function waitAtMost(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => undefined), new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

const seconds = (ms: number) => `${ms < 10_000 ? (ms / 1000).toFixed(1) : Math.round(ms / 1000)} s`;
