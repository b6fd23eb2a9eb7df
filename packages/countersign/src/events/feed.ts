import type { Logger } from 'pino';
import type { Database } from '../db/connect.js';
import type { Listener } from '../db/listen.js';
import type { Clock } from '../lib/clock.js';
import type { Metrics } from '../metrics.js';
import type { EventBus } from './bus.js';
import type { StoredEvent } from './types.js';

/** How the feed reads the outbox: events/outbox.ts (an interface so the feed's tests and the wiring agree on what it needs). */
export interface FeedSource {
  /**
   * Stored events with seq > after, in seq order, at most `limit`, each with the identity epoch read with them
   * (StoredEvent.epoch; outbox.readAfterWithEpoch), so this gateway's waiters need no read of their own.
   */
  readAfter(after: number, limit: number): Promise<StoredEvent[]>;
  /** The highest seq appended so far. */
  head(): Promise<number>;
}

export interface EventFeedOptions {
  db: Database;
  source: FeedSource;
  bus: EventBus;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  /** The backstop: the outbox is read this often whatever else happens (missed notifies, other processes on SQLite). */
  pollIntervalMs: number;
}

type ReadReason = 'notify' | 'gap' | 'connect' | 'reconnect' | 'poll';

const PAGE = 500;

/**
 * Everything this gateway's subscribers (long-polls, event streams, the scheduler, consumers) hear goes
 * through here, once per sequence number and in sequence order, whichever process committed it.
 *
 * It owns the high-water mark: the highest seq published locally. A local commit that continues it is
 * published at once, with no read (the single-node case costs nothing). Anything else — a notify from
 * another gateway, a local commit after a gap (another node or the admin CLI wrote in between), a
 * re-established LISTEN connection, the backstop poll — reads the outbox after the mark, one read at a
 * time (wake-ups during a read share the next one), and publishes what it finds before any local events
 * held back behind the gap. Subscribers drop what they have seen by seq, so order matters as much as
 * completeness: publishing 106 before 104 would lose 104 for an event stream.
 *
 * Every event it publishes carries an identity epoch (StoredEvent.epoch): a local commit's is the epoch at its
 * commit, an outbox read's the epoch read with the events. Either counts every identity change committed before
 * the event, so a waiter verified at it is answered with no read after the commit (IdentityWatch.covers).
 *
 * Until start() (the admin CLI never starts it) local commits are published directly, as before.
 */
export class EventFeed {
  /** Undefined until started. */
  private hwm: number | undefined;
  private localMax = 0;
  /** Local events committed after a gap, waiting for the outbox read that fills it. */
  private readonly held = new Map<number, StoredEvent>();
  private reading: Promise<void> | undefined;
  private again: ReadReason | undefined;
  private listener: Listener | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private stopped = false;

  constructor(private readonly o: EventFeedOptions) {}

  /** Starts listening and polling; events committed before it returns are not published live (replay reads them). */
  async start(): Promise<void> {
    const { db, metrics, logger } = this.o;
    this.stopped = false;
    this.listener = db.listen({
      onNotify: (seq, own) => {
        // Our own commits reach committed() (a notify can beat it there); reading for them would only delay them.
        if (!own && this.hwm !== undefined && seq > this.hwm) this.wake('notify');
      },
      onConnect: (reconnect) => {
        metrics.listenConnected.set(1);
        if (reconnect) {
          metrics.listenReconnects.inc();
          logger.info('event LISTEN connection re-established; replaying what was missed');
        }
        // Whatever was committed while nobody listened is in the outbox.
        if (this.hwm !== undefined) this.wake(reconnect ? 'reconnect' : 'connect');
      },
      onDisconnect: (err) => {
        metrics.listenConnected.set(0);
        if (!this.stopped) logger.warn({ err }, 'event LISTEN connection lost; reconnecting (the backstop poll covers the gap)');
      },
    });
    // Listening before the head is read: a commit after the read is then heard, not lost.
    await this.listener.ready;
    const head = await this.o.source.head();
    this.hwm = Math.max(head, this.localMax);
    metrics.feedHighWater.set(this.hwm);
    this.timer = setInterval(() => this.wake('poll'), this.o.pollIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.listener?.close();
    this.o.metrics.listenConnected.set(0);
    await this.reading;
  }

  /** The highest seq published here (undefined before start). */
  highWater(): number | undefined {
    return this.hwm;
  }

  /** The PostgreSQL backend pid of this gateway's LISTEN connection, while connected. */
  listenBackendPid(): number | undefined {
    return this.listener?.backendPid();
  }

  /** The committer's hook: this process's events, right after their transaction committed. */
  committed(events: StoredEvent[]): void {
    const last = events.at(-1);
    if (!last) return;
    if (this.hwm === undefined) {
      this.localMax = Math.max(this.localMax, last.seq);
      this.o.bus.publish(events);
      this.o.metrics.feedPublished.inc({ source: 'local' }, events.length);
      return;
    }
    const hwm = this.hwm;
    // A notify can beat the committer's own answer here; what a read already published is not sent twice.
    const fresh = last.seq <= hwm ? [] : events.filter((e) => e.seq > hwm);
    const first = fresh[0];
    if (!first) return;
    if (first.seq === hwm + 1 && this.reading === undefined && this.held.size === 0) {
      this.publish(fresh, 'local');
      return;
    }
    for (const e of fresh) this.held.set(e.seq, e);
    this.wake('gap');
  }

  /** Reads the outbox now, or after the read in flight (which may have started before what woke us). */
  private wake(reason: ReadReason): void {
    if (this.stopped || this.hwm === undefined) return;
    if (this.reading) {
      this.again ??= reason;
      return;
    }
    this.reading = this.drain(reason).finally(() => {
      this.reading = undefined;
    });
  }

  private async drain(first: ReadReason): Promise<void> {
    let reason: ReadReason | undefined = first;
    while (reason !== undefined && !this.stopped) {
      this.again = undefined;
      try {
        await this.catchUp(reason);
      } catch (err) {
        // Held events stay held: the next wake-up (at the latest the poll) reads again.
        this.o.logger.warn({ err }, 'event feed could not read the outbox; retrying at the next poll');
        return;
      }
      reason = this.again;
    }
  }

  private async catchUp(reason: ReadReason): Promise<void> {
    for (;;) {
      this.releaseHeld();
      const hwm = this.hwm as number;
      // With local events held, only the gap before them needs reading.
      const firstHeld = this.held.size > 0 ? Math.min(...this.held.keys()) : undefined;
      const limit = firstHeld === undefined ? PAGE : Math.min(PAGE, firstHeld - hwm - 1);
      if (limit <= 0) return;
      this.o.metrics.feedReads.inc({ reason });
      const rows = await this.o.source.readAfter(hwm, limit);
      if (this.stopped) return;
      const now = this.o.clock.now();
      const fresh = rows.filter((e) => e.seq > (this.hwm as number));
      for (const e of fresh) this.o.metrics.feedLag.observe(Math.max(0, now - e.ts) / 1000);
      if (fresh.length > 0) this.publish(fresh, 'outbox');
      // Events deleted by retention leave a gap the outbox cannot fill; held events continue after it.
      if (rows.length < limit && firstHeld !== undefined && this.held.size > 0) this.hwm = Math.max(this.hwm as number, firstHeld - 1);
      this.releaseHeld();
      // A filled gap is done: whatever came after the held events announces itself (notify, gap, poll).
      if (rows.length < limit || firstHeld !== undefined) return;
    }
  }

  /** Publishes held local events that now continue the sequence. */
  private releaseHeld(): void {
    const run: StoredEvent[] = [];
    for (;;) {
      const next = this.held.get((this.hwm as number) + run.length + 1);
      if (!next) break;
      run.push(next);
    }
    for (const seq of [...this.held.keys()]) if (seq <= (this.hwm as number) + run.length) this.held.delete(seq);
    if (run.length > 0) this.publish(run, 'local');
  }

  private publish(events: StoredEvent[], source: 'local' | 'outbox'): void {
    this.hwm = (events.at(-1) as StoredEvent).seq;
    this.o.metrics.feedHighWater.set(this.hwm);
    this.o.metrics.feedPublished.inc({ source }, events.length);
    this.o.bus.publish(events);
  }
}
