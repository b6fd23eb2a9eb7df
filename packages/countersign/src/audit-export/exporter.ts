import type { Deps } from '../deps.js';
import { retryDelayMs } from '../events/consumers/backoff.js';
import type { TimerHandle } from '../lib/clock.js';
import { isCsError } from '../lib/errors.js';
import { SerialRunner } from '../lib/serial-runner.js';
import { exportLag, readEntries } from './read-entries.js';
import { recordFailure, recordSent } from './record-progress.js';
import { claimSink, ensureSink, peekSink, releaseSink } from './sink-lease.js';
import type { Sink } from './types.js';

export interface ExporterOptions {
  /** This node's lease owner id (unique per process). */
  owner: string;
  leaseMs: number;
  batchSize: number;
  startAt: 'genesis' | 'head';
  /** Gives up on one send after this long (the batch is sent again after a back-off). */
  timeoutMs: number;
  /** Idle polls: this soon after work, doubling to maxBackstopMs while nothing is new. */
  backstopMs: number;
  maxBackstopMs: number;
}

/** After an unexpected error (the database went away), try again this much later. */
const ERROR_RETRY_MS = 1_000;

/**
 * Streams the audit log to one sink from this node, while it holds the sink's lease. Each pass reads the
 * entries after the cursor, sends them as one batch and, once the sink has taken them, moves the cursor
 * in the database; a failed send leaves the cursor where it was and waits a back-off (1 s doubling to
 * 5 min, the consumers' curve) before sending the same batch again. Nothing is ever skipped or
 * dead-lettered: a SIEM must hold every entry, in order. A crash between a delivery and its cursor update
 * sends that batch again: at least once, and receivers de-duplicate by the entry's seq.
 *
 * It wakes on every event the bus publishes (most audit entries are written with one) and on a backstop
 * timer on the injected clock, which finds the entries written without an event.
 */
export class AuditExporter {
  private held = false;
  private leaseUntil = 0;
  private cursor = 0;
  private cursorHash = '';
  private attempts = 0;
  private retryAt = 0;
  private readonly runner = new SerialRunner(
    () => this.loop(),
    () => this.stopped,
  );
  private timer: TimerHandle | undefined;
  private stopped = false;
  private abort = new AbortController();
  private ready: Promise<void> = Promise.resolve();
  private unsubscribe: (() => void) | undefined;
  private idleMs: number;

  constructor(
    private readonly deps: Deps,
    private readonly sink: Sink,
    private readonly opts: ExporterOptions,
  ) {
    this.idleMs = opts.backstopMs;
  }

  get name(): string {
    return this.sink.name;
  }

  start(): void {
    this.stopped = false;
    this.abort = new AbortController();
    this.register();
    this.unsubscribe = this.deps.bus.subscribe(() => {
      if (this.held) this.wake();
    });
    this.wake();
  }

  /** Runs passes until there is nothing more to do now (tests call it; concurrent calls share the run). */
  async tick(): Promise<void> {
    this.wake();
    await this.runner.idle();
  }

  /** Stops at once: a send in flight is aborted (its batch goes again on the next start, wherever that is). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.timer?.cancel();
    this.abort.abort(new Error('the gateway is stopping'));
    await this.runner.idle();
    if (this.held) {
      this.held = false;
      await releaseSink(this.deps, this.sink.name, this.opts.owner).catch((err) =>
        this.deps.logger.warn({ err, sink: this.sink.name }, 'could not release the audit export lease; it expires on its own'),
      );
    }
    await this.sink.close().catch(() => undefined);
  }

  private wake(): void {
    this.runner.wake();
  }

  private async loop(): Promise<void> {
    try {
      await this.ready;
      while (!this.stopped && (await this.pass()));
    } catch (err) {
      if (this.stopped) return;
      this.deps.logger.error({ err, sink: this.sink.name }, 'audit export pass failed; retrying');
      this.register();
      this.schedule(this.deps.clock.now() + ERROR_RETRY_MS);
    }
  }

  private register(): void {
    const ready = ensureSink(this.deps, this.sink.name, this.opts.startAt);
    ready.catch(() => undefined);
    this.ready = ready;
  }

  /** One batch; true when there may be more to send at once. */
  private async pass(): Promise<boolean> {
    const { deps, opts } = this;
    const now = deps.clock.now();
    if (!(await this.holdLease(now))) return false;
    if (this.retryAt > now) {
      this.schedule(this.retryAt);
      return false;
    }
    const from = this.cursor;
    let entries: Awaited<ReturnType<typeof readEntries>>['entries'];
    let broken: string | null;
    try {
      ({ entries, broken } = await readEntries(deps.db.read, from, this.cursorHash, opts.batchSize));
      // What verifies goes first; the entry that does not is the next pass's failure.
      if (entries.length === 0 && broken !== null) throw new Error(broken);
      if (entries.length > 0) await this.sink.send(entries, AbortSignal.any([this.abort.signal, AbortSignal.timeout(opts.timeoutMs)]));
    } catch (e) {
      if (this.stopped) return false;
      await this.failed(from, e);
      return false;
    }
    const last = entries.at(-1);
    if (last === undefined) {
      await this.observeLag();
      this.idleMs = Math.min(this.idleMs * 2, opts.maxBackstopMs);
      // Renew well before the lease ends, even with nothing to do, so the others keep waiting.
      this.schedule(this.leaseUntil - opts.leaseMs / 2);
      return false;
    }
    const before = deps.clock.now();
    try {
      await recordSent(deps, {
        name: this.sink.name,
        owner: opts.owner,
        leaseMs: opts.leaseMs,
        fromCursor: from,
        toCursor: last.seq,
        toHash: last.hash,
        toTs: last.ts,
      });
    } catch (e) {
      if (!isCsError(e) || e.code !== 'conflict') throw e;
      // Taken over while we sent: the new holder sends this batch again (same ids).
      this.held = false;
      this.schedule(deps.clock.now() + opts.backstopMs);
      return false;
    }
    this.cursor = last.seq;
    this.cursorHash = last.hash;
    this.attempts = 0;
    this.leaseUntil = before + opts.leaseMs;
    this.idleMs = opts.backstopMs;
    deps.metrics.auditExportSent.inc({ sink: this.sink.name }, entries.length);
    deps.metrics.auditExportCursor.set({ sink: this.sink.name }, last.seq);
    if (entries.length < opts.batchSize && broken === null) await this.observeLag();
    return entries.length === opts.batchSize || broken !== null;
  }

  private async failed(cursor: number, e: unknown): Promise<void> {
    const { deps, opts } = this;
    const error = e instanceof Error ? e.message || e.name : String(e);
    const attempts = this.attempts + 1;
    deps.metrics.auditExportFailures.inc({ sink: this.sink.name });
    deps.logger.warn({ sink: this.sink.name, cursor, attempts, error }, 'audit export: send failed; the batch will be sent again');
    try {
      this.retryAt = await recordFailure(deps, {
        name: this.sink.name,
        owner: opts.owner,
        cursor,
        attempts,
        delayMs: retryDelayMs(attempts),
        error,
      });
      this.attempts = attempts;
    } catch (err) {
      if (!isCsError(err) || err.code !== 'conflict') throw err;
      this.held = false;
    }
    await this.observeLag();
    this.schedule(this.held ? this.retryAt : deps.clock.now() + opts.backstopMs);
  }

  private async observeLag(): Promise<void> {
    const lag = await exportLag(this.deps.db.read, this.cursor);
    const sink = this.sink.name;
    this.deps.metrics.auditExportLag.set({ sink }, Math.max(0, lag.head - this.cursor));
    this.deps.metrics.auditExportLagSeconds.set(
      { sink },
      lag.oldestTs === null ? 0 : Math.max(0, this.deps.clock.now() - lag.oldestTs) / 1000,
    );
  }

  /** Makes sure this node holds the lease (renewing it past half-time); false, with a wake-up set, when another node does. */
  private async holdLease(now: number): Promise<boolean> {
    const { deps, opts } = this;
    const name = this.sink.name;
    if (this.held && this.leaseUntil - now > opts.leaseMs / 2) return true;
    if (!this.held) {
      const lease = await peekSink(deps, name);
      if (lease === undefined) await ensureSink(deps, name, opts.startAt);
      if (lease?.owner && lease.owner !== opts.owner && lease.expiresAt !== null && lease.expiresAt > now) {
        this.idleMs = Math.min(this.idleMs * 2, opts.maxBackstopMs);
        this.schedule(lease.expiresAt);
        return false;
      }
    }
    const state = await claimSink(deps, name, opts.owner, opts.leaseMs);
    this.held = state.held;
    if (!state.held) {
      this.schedule(state.expiresAt ?? now + opts.backstopMs);
      return false;
    }
    this.cursor = state.cursor;
    this.cursorHash = state.cursorHash;
    this.attempts = state.attempts;
    this.retryAt = state.nextAttemptAt ?? 0;
    this.leaseUntil = now + opts.leaseMs;
    return true;
  }

  private schedule(at: number): void {
    if (this.stopped) return;
    const now = this.deps.clock.now();
    const target = Math.max(now, Math.min(at, now + this.idleMs));
    this.timer?.cancel();
    this.timer = this.deps.clock.setTimeout(() => this.wake(), target - now);
  }
}
