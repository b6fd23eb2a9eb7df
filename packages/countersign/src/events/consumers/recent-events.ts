import type { StoredEvent } from '../types.js';
import type { Page } from './read-events.js';

/**
 * The events the bus published lately, as a consumer would read them from the outbox, so that a worker that is
 * caught up takes the events this process (or the feed) just published from memory instead of reading back what
 * was committed a moment ago.
 *
 * It holds an unbroken run of sequence numbers: (from, to], every one of them seen, of which it keeps the events of
 * the consumer's types. The feed publishes every committed event once, in seq order; a seq skipped (or the first
 * event after a start) starts the run afresh at that event, and a seq seen again ends the run until a new one comes,
 * so memory never answers for a seq it did not see. A cursor inside the run gets its page from here; any other cursor (behind the run: a worker
 * that fell behind or just took the lease; ahead of it: the outbox was read past what the feed published) gets
 * `undefined`, and the worker reads the outbox as before. The cursor, the lease and at-least-once stay in the
 * database: this only replaces the read.
 */
export class RecentEvents {
  /** The seq before the run (-1: no run yet). */
  private from = -1;
  /** The last seq of the run and its commit time. */
  private to = -1;
  private toTs = 0;
  /** The run's events of the consumer's types, in seq order. */
  private events: StoredEvent[] = [];

  /**
   * @param wanted the consumer's types (null: all)
   * @param capacity events of those types kept at most: past it the oldest go, and the run starts after them
   */
  constructor(
    private readonly wanted: ReadonlySet<string> | null,
    private readonly capacity: number,
  ) {}

  /** One event as the bus published it. */
  add(e: StoredEvent): void {
    // Seen before, or going back: answer for nothing until a new seq comes.
    if (e.seq <= this.to) {
      this.restartAt(-1);
      return;
    }
    if (this.from < 0 || e.seq !== this.to + 1) this.restartAt(e.seq - 1);
    this.to = e.seq;
    this.toTs = e.ts;
    if (this.wanted !== null && !this.wanted.has(e.type)) return;
    this.events.push(e);
    if (this.events.length > this.capacity) this.from = (this.events.shift() as StoredEvent).seq;
  }

  /** Forgets everything (a node that does not hold the consumer keeps nothing). */
  clear(): void {
    this.restartAt(-1);
    this.to = -1;
  }

  /**
   * The page after `cursor`, of at most `limit` events, as `readPage` would return it; undefined when the run does
   * not cover `cursor`. The page is handed over: the run then starts after it, so memory holds an event only until
   * a pass takes it (kept longer, events and their views would outlive the young generation and cost the garbage
   * collector more than the read they save). A pass that does not move the cursor to the page's end (stopped early,
   * lease lost) is behind the run afterwards and reads the outbox, as it would have.
   */
  pageAfter(cursor: number, limit: number): Page | undefined {
    if (this.from < 0 || cursor < this.from || cursor > this.to) return undefined;
    let passed = 0;
    while (passed < this.events.length && (this.events[passed] as StoredEvent).seq <= cursor) passed += 1;
    const events = this.events.slice(passed, passed + limit);
    this.events = passed + events.length === this.events.length ? [] : this.events.slice(passed + events.length);
    if (this.events.length > 0) {
      // More of the consumer's events than fit: the page ends at its last one, like a full page read.
      const last = events.at(-1) as StoredEvent;
      this.from = last.seq;
      return { events, last: last.seq, lastTs: last.ts, full: true };
    }
    this.from = this.to;
    if (this.to === cursor) return { events, last: cursor, lastTs: null, full: false };
    return { events, last: this.to, lastTs: this.toTs, full: false };
  }

  private restartAt(from: number): void {
    this.from = from;
    this.events = [];
  }
}
