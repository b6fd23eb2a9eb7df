import type { ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import type { Deps } from '../deps.js';
import type { Principal } from '../domain/identities/principal.js';
import { ScopeIndex } from '../events/bus.js';
import type { IdentityWatch } from '../events/identity-watcher.js';
import { type OutboxFilter, visible } from '../events/outbox.js';
import type { StoredEvent } from '../events/types.js';
import { wireEvent } from '../events/wire-event.js';
import { systemClock } from '../lib/clock.js';
import { SpreadTicker } from '../lib/spread-ticker.js';
import { AbortFanout } from './abort-fanout.js';
import type { HeldRequests } from './held-requests.js';
import { writeKeepAlive } from './keep-alive-comment.js';

/** Every stream gets a keep-alive comment this often (proxies end idle connections), spread over the period. */
export const HEARTBEAT_MS = 15_000;

/** The same for every stream, so built once. */
const HEADERS = Object.freeze({
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
});

/** The wire form of one event; `id` is the resume point for Last-Event-ID. */
export function formatSse(e: StoredEvent): string {
  return `id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(wireEvent(e))}\n\n`;
}

export interface StreamOptions {
  principal: Principal;
  filter: OutboxFilter;
  /** The identity epoch the request was authenticated at (see IdentityWatcher.watch). */
  verifiedAt: number | undefined;
  log: FastifyBaseLogger;
}

/**
 * One open event stream (`GET /v1/events`): a plain record, since thousands are open at once. It has
 * no timer of its own (one SpreadTicker beats every stream) and no bus subscription of its own (one
 * serves every stream, which EventStreams finds by its filter), the identity watch's one listener for
 * all streams of a credential calls it (AbortFanout), and the server's close reaches it through the heartbeat's list; its one
 * closure is the `close` listener. Live events are held in `buffered` until the route's replay has
 * caught up, then go through `queue`, which the identity check drains in batches.
 */
export class EventStream {
  /** The last event id written (or the point the stream resumes from); nothing at or below it is sent. */
  lastSent = 0;
  /** Set once the stream is ended by either side; nothing may be written after that. */
  closed = false;
  /** The heartbeat slice it is in (SpreadTicker). */
  slice = -1;
  /** Its place among the streams told when its identity watch aborts (AbortFanout). */
  abortSlot = -1;
  private buffered: StoredEvent[] | undefined = [];
  private queue: StoredEvent[] | undefined;
  private flushing = false;

  constructor(
    private readonly owner: EventStreams,
    readonly res: ServerResponse,
    private readonly principal: Principal,
    readonly filter: OutboxFilter,
    readonly watch: IdentityWatch,
    readonly log: FastifyBaseLogger,
  ) {}

  /** Writes one event unless the stream has ended or already sent it. */
  send(e: StoredEvent): void {
    if (this.closed || e.seq <= this.lastSent) return;
    this.lastSent = e.seq;
    this.res.write(formatSse(e));
  }

  /** Whether `e` belongs on this stream (its filter, and what this principal may see). */
  shows(e: StoredEvent): boolean {
    return visible(e, this.principal, this.filter);
  }

  /** The replay has caught up: what arrived meanwhile is delivered, and from now on events go out as they come. */
  live(): void {
    const buffered = this.buffered ?? [];
    this.buffered = undefined;
    this.deliver(buffered);
  }

  /**
   * Ends the stream from the server's side. Ending the response leaves a keep-alive socket the closing
   * server would still wait on: it is dropped once flushed.
   */
  end(): void {
    if (this.closed) return;
    this.closed = true;
    const res = this.res;
    res.end(() => res.socket?.destroy());
  }

  /** The identity watch aborted: revoked, or changed. */
  handleEvent(): void {
    this.end();
  }

  /**
   * The heartbeat: a keep-alive comment, and the principal re-read at the next check, whose promise is
   * returned (the stream ends if it fails: EventStreams.beat). A change made without moving the epoch (a
   * hand edit of the database) is caught here at the latest.
   */
  beat(): Promise<void> | undefined {
    if (this.closed) return undefined;
    writeKeepAlive(this.res);
    return this.watch.recheck();
  }

  /**
   * The response closed (either side): everything the stream held is let go. A response emits `close`
   * once, so this is an `on` listener (`once` would wrap it in a bound function and its state object).
   */
  readonly onClose = (): void => {
    this.closed = true;
    this.owner.closed(this);
  };

  /** A committed event its filter's narrowest part matches (EventStreams' one bus subscription). */
  receive(e: StoredEvent): void {
    if (!this.shows(e)) return;
    if (this.buffered) this.buffered.push(e);
    else this.deliver([e]);
  }

  private deliver(events: StoredEvent[]): void {
    if (events.length === 0) return;
    if (this.queue) this.queue.push(...events);
    else this.queue = events;
    // Counted as held too, so a close never destroys the database under its identity check.
    if (!this.flushing) void this.owner.held.track(() => this.flush());
  }

  /**
   * Live events pass the revocation check before they are written: the epoch read starts after they
   * committed, so a revocation committed before them is seen and they are never sent. Events stamped with
   * the epoch this watch was verified at (StoredEvent.epoch) need no read: that epoch already counts them.
   */
  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      // Let the rest of this publish (a commit's events arrive one by one) join the batch: one check for all.
      await Promise.resolve();
      while (this.queue !== undefined && !this.closed) {
        const batch = this.queue;
        this.queue = undefined;
        if (!batch.every((e) => this.watch.covers(e.epoch))) await this.watch.sync();
        for (const e of batch) this.send(e);
      }
    } catch (err) {
      // Unverified events are not sent; the client reconnects with Last-Event-ID and is checked afresh.
      this.log.warn({ err }, 'identity check failed; ending the event stream');
      this.end();
    } finally {
      this.flushing = false;
    }
  }
}

/**
 * The event streams this server holds open: one heartbeat timer for all of them, the headers built once,
 * the waiters gauge and `held` kept for each. The route (routes/events.ts) opens a stream, replays what
 * it must, then calls `live()`.
 */
export class EventStreams {
  private readonly heartbeat: SpreadTicker<EventStream>;
  /**
   * The open streams by their filter's narrowest part (an agent's stream always has its agent), so an
   * event reaches only the streams it could concern; `visible` is still the check that decides. One bus
   * subscription serves them all while any is open: a subscription each cost a closure and an index
   * entry per stream.
   */
  private readonly byFilter = new ScopeIndex<EventStream>();
  private unsubscribe: (() => void) | undefined;
  /** One abort listener per identity watch signal (one per credential), not one per stream. */
  private readonly aborts = new AbortFanout<EventStream>();
  /** Counted once in `held` while any stream is open, so the server's close waits until every stream has ended. */
  private release: (() => void) | undefined;
  /** The re-check the streams beaten so far in this tick wait on, and those streams (ended if it fails). */
  private recheck: Promise<void> | undefined;
  private recheckedStreams: EventStream[] = [];

  constructor(
    readonly deps: Deps,
    readonly held: HeldRequests,
    private readonly closing: AbortSignal,
    heartbeatMs = HEARTBEAT_MS,
  ) {
    // A real timer: keep-alives are for the network's idle time-outs, not the gateway's clock.
    this.heartbeat = new SpreadTicker<EventStream>(systemClock, heartbeatMs, (s) => this.beat(s));
    // One listener ends them all (not one each: removing one of 10,000 listeners walks the list).
    closing.addEventListener('abort', () => this.endAll(), { once: true });
  }

  /**
   * Beats one stream. The re-checks of one tick's streams coalesce into one read (IdentityWatcher.sync), so
   * they share one failure handler: a handler per stream was a promise, a closure and a reaction for each
   * of 10,000 streams every 15 s, about half of an idle gateway's allocation, which kept V8 from giving
   * back its young generation.
   */
  private beat(s: EventStream): void {
    const check = s.beat();
    if (check === undefined) return;
    if (check !== this.recheck) {
      const streams: EventStream[] = [];
      this.recheck = check;
      this.recheckedStreams = streams;
      // Unverified, a stream ends; its client reconnects and is authorized afresh.
      check.catch(() => {
        for (const t of streams) t.end();
      });
    }
    this.recheckedStreams.push(s);
  }

  /** The server is closing: every stream ends (clients resume with Last-Event-ID elsewhere or later). */
  private endAll(): void {
    for (const s of this.heartbeat.members()) s.end();
  }

  /** How many are open. */
  size(): number {
    return this.heartbeat.size;
  }

  /**
   * Starts a stream on `res` (the reply already hijacked): the headers and the `retry:` preamble are
   * written, it is subscribed to the bus (live events are held until `live()`), and it ends when its
   * principal loses its power, when the server closes, or when its client leaves.
   */
  open(res: ServerResponse, o: StreamOptions): EventStream {
    res.writeHead(200, HEADERS);
    // Sent on their own: Node keeps the header string for the life of the response, and sending it alone
    // flattens it (joined to the first write it stays a chain of ~20 pieces: about 0.5 kB a stream).
    res.flushHeaders();
    res.write('retry: 2000\n\n');
    this.deps.metrics.waiters.inc({ kind: 'sse' });
    // The stream was authenticated once; the watch ends it when its key is revoked, its person or agent
    // disabled, or their role or groups change (the client reconnects and is authorized afresh).
    const watch = this.deps.identities.watch(o.principal, { endOnChange: true, verifiedAt: o.verifiedAt });
    const s = new EventStream(this, res, o.principal, o.filter, watch, o.log);
    // The server's close waits until the streams have ended (and each delivery settled: flush is tracked).
    this.release ??= this.held.hold();
    this.aborts.add(watch.signal, s);
    this.heartbeat.add(s);
    // Subscribed before the route replays, so nothing committed in between is missed (live() releases it).
    this.byFilter.add(s, s.filter);
    this.unsubscribe ??= this.deps.bus.subscribe(this.onEvent);
    // A client that left while the request was being authenticated closed it before the listener was there.
    if (res.closed) s.onClose();
    else res.on('close', s.onClose);
    // Revoked or closing before the listeners were there.
    if (watch.signal.aborted || this.closing.aborted) s.end();
    return s;
  }

  /** @internal The stream's response closed (a second call finds it gone and does nothing). */
  closed(s: EventStream): void {
    if (!this.byFilter.delete(s, s.filter)) return;
    this.aborts.delete(s.watch.signal, s);
    s.watch.release();
    this.heartbeat.delete(s);
    this.deps.metrics.waiters.dec({ kind: 'sse' });
    if (this.byFilter.size === 0) {
      this.unsubscribe?.();
      this.unsubscribe = undefined;
      this.release?.();
      this.release = undefined;
    }
  }

  /** A committed event, handed to the streams it could concern (each in publish order, as the bus would). */
  private readonly onEvent = (e: StoredEvent): void => {
    for (const s of this.byFilter.matching(e)) {
      try {
        s.receive(e);
      } catch (err) {
        // One broken stream must not stop delivery to the others; it ends and its client resumes.
        s.log.warn({ err }, 'event delivery failed; ending the event stream');
        s.end();
      }
    }
  };
}
