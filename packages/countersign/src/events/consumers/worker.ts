import type { Deps } from '../../deps.js';
import type { TimerHandle } from '../../lib/clock.js';
import { isCsError } from '../../lib/errors.js';
import { SerialRunner } from '../../lib/serial-runner.js';
import { claimLease, ensureConsumer, peekLease, releaseLease, renewLease } from './claim.js';
import { RetryWatch } from './due-retries.js';
import { type Done, Lanes, type Work } from './lanes.js';
import { type Page, readBySeq, readPage } from './read-events.js';
import { RecentEvents } from './recent-events.js';
import { recordBatch } from './record.js';
import { boundedRetryAfter, RetryLater } from './retry-later.js';
import { settle } from './settle.js';
import { type InFlight, TAKE_IN_MS, takeIn } from './take-in.js';
import { type ConsumerDefinition, idempotencyKey } from './types.js';

export interface WorkerOptions {
  /** This node's lease owner id (unique per process). */
  owner: string;
  leaseMs: number;
  maxAttempts: number;
  /**
   * The poll that finds events the bus did not announce (another node's before the feed delivers them,
   * a lost wake-up): after a pass that found work, look again this soon…
   */
  backstopMs: number;
  /** …and double the wait on each idle pass up to this, like the Scheduler's 5 s. */
  maxBackstopMs: number;
}

const DEFAULT_BATCH = 500;
/** After an unexpected error (the database went away), try again this much later. */
const ERROR_RETRY_MS = 1_000;

/**
 * Runs one consumer on this node. It wakes on every event the bus publishes (the bus carries other
 * nodes' events too once they are fed in, but correctness never depends on it) and on a backstop timer
 * on the injected clock; each pass takes or renews the lease, reads a batch after the cursor plus the
 * retries that are due, runs the handler on each (one at a time in seq order, or up to the consumer's
 * `concurrency` at once in per-action lanes, lanes.ts, taking in events committed while it runs), and records the outcome in one transaction. A node that does not hold the lease reads the lease row (no write) and sleeps until it
 * expires, so idle nodes cost one read per backstop interval.
 *
 * A holder that is caught up takes the events the bus just published from memory (recent-events.ts) instead of
 * reading back from the outbox what this process committed a moment ago; anything memory cannot vouch for (a gap,
 * a cursor behind what it holds) is read from the outbox, and the backstop timer and tick() always read it. Memory
 * replaces only that read: the cursor, the lease and the outcome are recorded in the database as before.
 */
export class ConsumerWorker {
  private held = false;
  private leaseUntil = 0;
  private cursor = 0;
  private readonly runner = new SerialRunner(
    () => this.loop(),
    () => this.stopped,
  );
  private timer: TimerHandle | undefined;
  private stopped = false;
  private ready: Promise<void> = Promise.resolve();
  private unsubscribe: (() => void) | undefined;
  private readonly types: ReadonlySet<string> | null;
  private readonly batchSize: number;
  private readonly maxAttempts: number;
  private readonly concurrency: number;
  /** A platform's Retry-After (RetryLater): no delivery of this consumer starts before this time. */
  private pausedUntil = 0;
  /** The lease was taken over in the middle of a batch: start nothing more of it. */
  private lost = false;
  private renewing: Promise<number | null> | undefined;
  /** The current backstop sleep: grows while idle, back to backstopMs when there is work. */
  private idleMs: number;
  /** The pass delivering now, which takes in events committed meanwhile (takeIn). */
  private current: InFlight | undefined;
  /** What the bus published lately: a caught-up pass takes its page from here instead of the outbox. */
  private readonly recent: RecentEvents;
  /** The next pass reads the outbox whatever memory holds (the backstop timer, tick()). */
  private verify = true;
  private readonly retries: RetryWatch;

  constructor(
    private readonly deps: Deps,
    private readonly def: ConsumerDefinition,
    private readonly opts: WorkerOptions,
  ) {
    this.types = def.types ? new Set(def.types) : null;
    this.batchSize = def.batchSize ?? DEFAULT_BATCH;
    this.maxAttempts = def.maxAttempts ?? opts.maxAttempts;
    this.concurrency = Math.max(1, Math.floor(def.concurrency ?? 1));
    this.idleMs = opts.backstopMs;
    this.recent = new RecentEvents(this.types, this.batchSize);
    this.retries = new RetryWatch(deps, def.name, opts.backstopMs);
  }

  start(): void {
    this.stopped = false;
    this.register();
    this.unsubscribe = this.deps.bus.subscribe((e) => {
      // Only the holder has work to do now; the others learn of the lease's end from their timer.
      if (!this.held) {
        this.recent.clear();
        return;
      }
      this.recent.add(e);
      if (this.types !== null && !this.types.has(e.type)) return;
      this.wake();
      this.takeIn();
    });
    this.wake();
  }

  /** Runs passes until there is nothing more to do now (tests call it; concurrent calls share the run). */
  async tick(): Promise<void> {
    this.verify = true;
    this.wake();
    await this.runner.idle();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.timer?.cancel();
    await this.runner.idle();
    if (this.held) {
      this.held = false;
      await releaseLease(this.deps, this.def.name, this.opts.owner).catch((err) =>
        this.deps.logger.warn({ err, consumer: this.def.name }, 'could not release the consumer lease; it expires on its own'),
      );
    }
  }

  private wake(): void {
    this.runner.wake();
  }

  private async loop(): Promise<void> {
    try {
      await this.ready;
      while (!this.stopped && (await this.pass()));
    } catch (err) {
      this.deps.logger.error({ err, consumer: this.def.name }, 'consumer pass failed; retrying');
      this.register();
      this.schedule(this.deps.clock.now() + ERROR_RETRY_MS);
    }
  }

  /**
   * Makes sure the consumer's row exists (first run anywhere, or after a failure). The next pass awaits
   * it and sees its error; until then (or if the worker stops first) a failure must not be unhandled.
   */
  private register(): void {
    const ready = ensureConsumer(this.deps, this.def.name, this.def.startAt ?? 'head');
    ready.catch(() => undefined);
    this.ready = ready;
  }

  /** One batch; true when there may be more to do at once. */
  private async pass(): Promise<boolean> {
    const { deps, def, opts } = this;
    const now = deps.clock.now();
    if (!(await this.holdLease(now))) return false;
    if (now < this.pausedUntil) {
      // A platform asked us to wait (RetryLater): the lease is kept (just renewed), nothing is sent.
      this.schedule(Math.min(this.pausedUntil, this.leaseUntil - opts.leaseMs / 2));
      return false;
    }
    const verify = this.verify;
    this.verify = false;
    const page =
      (verify ? undefined : this.recent.pageAfter(this.cursor, this.batchSize)) ?? (await this.readPage(this.cursor, this.batchSize));
    const retries = await this.retries.due(now, this.batchSize, verify);
    if (page.last === this.cursor && retries.due.length === 0) {
      // Renew well before the lease ends, even with nothing to do, so the others keep waiting.
      this.idleMs = Math.min(this.idleMs * 2, opts.maxBackstopMs);
      this.schedule(Math.min(retries.nextAt ?? Number.POSITIVE_INFINITY, this.leaseUntil - opts.leaseMs / 2));
      return false;
    }
    this.idleMs = opts.backstopMs;
    const stored = await readBySeq(
      deps.db.read,
      retries.due.map((r) => r.seq),
    );
    const work: Work[] = [
      ...page.events.map((event) => ({ seq: event.seq, event, attempt: 1, retryOf: null, actionId: event.actionId })),
      ...retries.due.map((r) => {
        const event = stored.get(r.seq);
        return { seq: r.seq, event, attempt: r.attempts + 1, retryOf: r.attempts, actionId: event?.actionId ?? null };
      }),
    ];
    const fromCursor = this.cursor;
    this.lost = false;
    const lanes = new Lanes(
      this.concurrency,
      () => this.mayStart(fromCursor),
      (w) => this.deliver(w),
    );
    const pass: InFlight = { lanes, page, work, until: now + TAKE_IN_MS, reading: false, again: false };
    this.current = pass;
    lanes.add(work);
    const done = await lanes.settled().finally(() => {
      this.current = undefined;
    });
    const outcome = settle(page, work, done, this.maxAttempts);
    const before = deps.clock.now();
    let recorded: Awaited<ReturnType<typeof recordBatch>>;
    try {
      recorded = await recordBatch(deps, {
        name: def.name,
        owner: opts.owner,
        leaseMs: opts.leaseMs,
        maxAttempts: this.maxAttempts,
        fromCursor,
        ...outcome.cursor,
        failures: outcome.failures,
        recovered: outcome.recovered,
      });
      // New retry rows (or fewer): look at them again next pass.
      if (outcome.failures.length > 0 || outcome.recovered.length > 0) this.retries.changed();
    } catch (e) {
      if (!isCsError(e) || e.code !== 'conflict') throw e;
      // Taken over while the handlers ran: the new holder delivers this batch again (same keys).
      this.held = false;
      this.schedule(deps.clock.now() + opts.backstopMs);
      return false;
    }
    this.cursor = outcome.cursor.toCursor;
    this.leaseUntil = before + opts.leaseMs;
    this.count(outcome.ran, outcome.failures.length, recorded.deadLettered, outcome.cursor.toCursorTs ?? null);
    if (done.size < work.length) {
      // Stopped early (a platform's Retry-After, a stop, the lease lost): the rest waits for the next pass.
      this.schedule(this.pausedUntil);
      return false;
    }
    return page.full || retries.due.length === this.batchSize;
  }

  /** A wake-up while a pass delivers: the events committed since its page join it (take-in.ts). */
  private takeIn(): void {
    if (this.current)
      takeIn(
        this.current,
        this.batchSize,
        () => this.deps.clock.now(),
        (after, limit) => Promise.resolve(this.recent.pageAfter(after, limit) ?? this.readPage(after, limit)),
        (err) => this.deps.logger.warn({ err, consumer: this.def.name }, 'could not read events committed during a pass'),
      );
  }

  private readPage(after: number, limit: number): Promise<Page> {
    return readPage(this.deps.db.read, after, limit, this.types);
  }

  /**
   * Asked before each delivery starts: not stopping, no platform asking us to wait, and the lease ours for
   * at least half its length (renewed here when less is left; one renewal shared by every lane).
   */
  private async mayStart(cursor: number): Promise<boolean> {
    const { deps, def, opts } = this;
    if (this.stopped || this.lost || deps.clock.now() < this.pausedUntil) return false;
    if (this.leaseUntil - deps.clock.now() > opts.leaseMs / 2) return true;
    this.renewing ??= renewLease(deps, def.name, opts.owner, cursor, opts.leaseMs).finally(() => {
      this.renewing = undefined;
    });
    const until = await this.renewing;
    if (until === null) this.lost = true;
    else this.leaseUntil = until;
    return until !== null;
  }

  /** Makes sure this node holds the lease (renewing it past half-time); false, with a wake-up set, when another node does. */
  private async holdLease(now: number): Promise<boolean> {
    const { deps, def, opts } = this;
    if (this.held && this.leaseUntil - now > opts.leaseMs / 2) return true;
    if (!this.held) {
      const lease = await peekLease(deps, def.name);
      // Forgotten by an admin while no node ran it (`countersign events forget`): registered afresh, at the head.
      if (lease === undefined) await ensureConsumer(deps, def.name, 'head');
      if (lease?.owner && lease.owner !== opts.owner && lease.expiresAt !== null && lease.expiresAt > now) {
        this.idleMs = Math.min(this.idleMs * 2, opts.maxBackstopMs);
        this.schedule(lease.expiresAt);
        return false;
      }
    }
    const state = await claimLease(deps, def.name, opts.owner, opts.leaseMs);
    this.held = state.held;
    if (!state.held) {
      this.schedule(state.expiresAt ?? now + opts.backstopMs);
      return false;
    }
    this.cursor = state.cursor;
    this.leaseUntil = now + opts.leaseMs;
    // Taken or renewed: the retries may have changed while another node held it (or an admin replayed one).
    this.retries.changed();
    return true;
  }

  /** Runs the handler (a retry whose event is gone fails unsent); a RetryLater also pauses this consumer. */
  private async deliver(w: Work): Promise<Done> {
    if (w.event === undefined) return { error: 'the event is no longer in the outbox', notBefore: null };
    try {
      await this.def.handle({ event: w.event, idempotencyKey: idempotencyKey(this.def.name, w.seq), attempt: w.attempt });
      return { error: null, notBefore: null };
    } catch (e) {
      const error = e instanceof Error ? e.message || e.name : String(e);
      if (!(e instanceof RetryLater)) return { error, notBefore: null };
      const notBefore = this.deps.clock.now() + boundedRetryAfter(e.afterMs);
      this.pausedUntil = Math.max(this.pausedUntil, notBefore);
      return { error, notBefore };
    }
  }

  private count(delivered: number, failed: number, dead: number, lastTs: number | null): void {
    const m = this.deps.metrics;
    const consumer = this.def.name;
    const ok = delivered - failed;
    if (ok > 0) m.consumerDeliveries.inc({ consumer, result: 'ok' }, ok);
    if (failed - dead > 0) m.consumerDeliveries.inc({ consumer, result: 'retry' }, failed - dead);
    if (dead > 0) m.consumerDeliveries.inc({ consumer, result: 'dead_letter' }, dead);
    if (lastTs !== null) m.consumerLag.observe({ consumer }, Math.max(0, this.deps.clock.now() - lastTs) / 1000);
  }

  private schedule(at: number): void {
    if (this.stopped) return;
    const now = this.deps.clock.now();
    const target = Math.max(now, Math.min(at, now + this.idleMs));
    this.timer?.cancel();
    this.timer = this.deps.clock.setTimeout(() => {
      // The backstop looks at the database itself: what the bus may not have announced, and the retries.
      this.verify = true;
      this.wake();
    }, target - now);
  }
}
