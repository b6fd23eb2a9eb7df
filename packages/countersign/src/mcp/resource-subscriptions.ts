import { ProtocolError, ProtocolErrorCode, type ResourceUpdatedNotification } from '@modelcontextprotocol/server';
import type { Logger } from 'pino';
import type { Ask } from './passthrough-ask.js';
import type { Upstream } from './upstream.js';

type UpdatedParams = ResourceUpdatedNotification['params'];

/** Delivers `notifications/resources/updated` to one downstream session. */
export type UpdateSink = (params: UpdatedParams) => Promise<void>;

interface Subscription {
  upstream: Upstream;
  uri: string;
  sinks: Map<string, UpdateSink>;
  /** The upstream `resources/subscribe`, shared by every session that subscribes meanwhile. */
  ready: Promise<void>;
  /** The last upstream subscribe failed after a reconnection: the next session to subscribe tries again. */
  stale: boolean;
}

/**
 * Resource subscriptions of all downstream sessions over the one connection per upstream. The
 * upstream sees one subscription per URI however many sessions want it (subscribed with the
 * first, unsubscribed after the last), and each update goes to exactly the sessions that asked.
 */
export class ResourceSubscriptions {
  private readonly subs = new Map<string, Subscription>();
  /** Upstream unsubscribes in flight: a new subscribe to the same URI goes after them, never before. */
  private readonly releasing = new Map<string, Promise<void>>();

  constructor(
    private readonly ask: Ask,
    private readonly log: Logger,
  ) {}

  async subscribe(upstream: Upstream, uri: string, sessionId: string, sink: UpdateSink): Promise<void> {
    if (upstream.capabilities.resources?.subscribe !== true) {
      // Accepting would promise updates that never come.
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
        `Resource ${uri} is served by "${upstream.name}", which does not support resource subscriptions`,
      );
    }
    const k = key(upstream, uri);
    let sub = this.subs.get(k);
    if (!sub) {
      // Not tied to this request's cancellation: other sessions may come to share it.
      const ready = (this.releasing.get(k) ?? Promise.resolve()).then(async () => {
        await this.ask(upstream, 'resources/subscribe', (c, o) => c.subscribeResource({ uri }, o));
      });
      sub = { upstream, uri, sinks: new Map(), ready, stale: false };
      this.subs.set(k, sub);
      const created = sub;
      ready.catch(() => {
        if (this.subs.get(k) === created) this.subs.delete(k);
      });
    } else if (sub.stale) {
      sub.stale = false;
      this.resubscribe(sub);
    }
    sub.sinks.set(sessionId, sink);
    try {
      await sub.ready;
    } catch (e) {
      sub.sinks.delete(sessionId);
      throw e;
    }
  }

  /** Idempotent; found by what the session subscribed to, so a resource that has since vanished can still be let go. */
  async unsubscribe(uri: string, sessionId: string): Promise<void> {
    const emptied: Subscription[] = [];
    for (const s of this.subs.values()) if (s.uri === uri && s.sinks.delete(sessionId) && s.sinks.size === 0) emptied.push(s);
    await Promise.all(emptied.map((s) => this.release(s)));
  }

  /** An update from upstream, to every session subscribed to that URI there. */
  updated(upstream: Upstream, params: UpdatedParams): void {
    const sub = this.subs.get(key(upstream, params.uri));
    for (const [sessionId, sink] of sub?.sinks ?? []) {
      sink(params).catch((err) => this.log.debug({ err, sessionId, uri: params.uri }, 'resource update not delivered'));
    }
  }

  /**
   * A restarted or reconnected upstream knows nothing of the old connection's subscriptions:
   * subscribe again to every URI sessions still follow there, so their updates keep coming.
   */
  renew(upstream: Upstream): void {
    for (const sub of this.subs.values()) {
      if (sub.upstream !== upstream) continue;
      this.resubscribe(sub).catch((err) =>
        this.log.warn(
          { err, upstream: upstream.name, uri: sub.uri },
          'could not renew a resource subscription; the next subscribe tries again',
        ),
      );
    }
  }

  /** Subscribes upstream again after what is in flight; a failure marks it stale rather than failing every later subscriber. */
  private resubscribe(sub: Subscription): Promise<void> {
    const again = sub.ready
      .catch(() => undefined)
      .then(() => this.ask(sub.upstream, 'resources/subscribe', (c, o) => c.subscribeResource({ uri: sub.uri }, o)))
      .then(() => undefined);
    sub.ready = again;
    again.catch(() => {
      if (sub.ready === again) sub.stale = true;
    });
    return again;
  }

  endSession(sessionId: string): void {
    for (const sub of [...this.subs.values()]) {
      if (sub.sinks.delete(sessionId) && sub.sinks.size === 0) {
        this.release(sub).catch((err) => this.log.debug({ err, uri: sub.uri }, 'could not unsubscribe upstream'));
      }
    }
  }

  private release(sub: Subscription): Promise<void> {
    const k = key(sub.upstream, sub.uri);
    this.subs.delete(k);
    const done = (async () => {
      // A subscribe still in flight must land before its unsubscribe, or the upstream keeps it.
      await sub.ready.catch(() => undefined);
      await this.ask(sub.upstream, 'resources/unsubscribe', (c, o) => c.unsubscribeResource({ uri: sub.uri }, o));
    })();
    const settled = done.catch(() => undefined);
    this.releasing.set(k, settled);
    settled.then(() => {
      if (this.releasing.get(k) === settled) this.releasing.delete(k);
    });
    return done;
  }
}

function key(upstream: Upstream, uri: string): string {
  return `${upstream.name}\n${uri}`;
}
