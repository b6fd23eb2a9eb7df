import { CountersignError } from './errors.js';
import type { CountersignEvent, EventOf, EventType } from './event-types.js';
import { sleep } from './sleep.js';
import { parseSse } from './sse.js';

/** Which events to follow; every filter is optional and they combine. */
export interface EventFilter {
  /** One action. */
  action?: string;
  /** A session (e.g. one agent run). */
  session?: string;
  /** An action and all its descendants through `parent_id`: how a top-level run hears its subagents. */
  root?: string;
  /** Agent name or id (humans' keys only; an agent key always sees just its own). */
  agent?: string;
  /** Only these event types, e.g. `['tool.approval_required']`; the events yielded are typed to match. */
  types?: readonly EventType[];
}

export interface FollowOptions {
  signal?: AbortSignal;
  /** Start after this event id (resume a stream an earlier process was reading). Default: from now on. */
  after?: number;
  /**
   * Called when the gateway can no longer replay from where this stream was (retention deleted the
   * events after it): resynchronise your state from the API here; following then goes on from the head.
   * Without it the iteration throws {@link EventsReset} instead, so a gap is never silent.
   */
  onReset?: (reset: EventsReset) => void | Promise<void>;
}

/**
 * Events this stream should have delivered are gone: it resumed (`after`, or a reconnect's last id) from
 * before the oldest event the gateway still keeps. Whatever state was built from the events is stale;
 * re-read it from the API, then follow again from `head` (`{ after: reset.head }`).
 */
export class EventsReset extends CountersignError {
  constructor(
    /** The id the stream tried to resume after. */
    readonly requestedAfter: number,
    /** The oldest event id still stored, or null when none is. */
    readonly oldestAvailable: number | null,
    /** The newest event id when the reset was sent; the stream continues after it. */
    readonly head: number,
  ) {
    super(
      'events_reset',
      `events after ${requestedAfter} were deleted by retention (oldest kept: ${oldestAvailable ?? 'none'}); resynchronise, then follow after ${head}`,
      undefined,
      { reason: 'events_deleted', requested_after: requestedAfter, oldest_available: oldestAvailable, head },
    );
    this.name = 'EventsReset';
  }
}

/** How to reach the gateway: the client's URL, key and fetch. */
export interface StreamConnection {
  url: string;
  apiKey: string;
  fetch: typeof fetch;
}

/** See {@link Client.events}. */
export async function* followEvents<T extends EventType = EventType>(
  conn: StreamConnection,
  filter: EventFilter & { types?: readonly T[] },
  opts: FollowOptions,
): AsyncGenerator<EventOf<T>> {
  const params = new URLSearchParams();
  for (const k of ['action', 'session', 'root', 'agent'] as const) {
    const v = filter[k];
    if (v !== undefined) params.set(k, v);
  }
  let lastId = opts.after;
  let backoff = 100;
  while (!opts.signal?.aborted) {
    try {
      const query = new URLSearchParams(params);
      if (lastId !== undefined) query.set('after', String(lastId));
      const res = await conn.fetch(`${conn.url}/v1/events?${query}`, {
        headers: { authorization: `Bearer ${conn.apiKey}`, accept: 'text/event-stream' },
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      if (res.status >= 400 && res.status < 500) {
        // A refused filter or key will not get better by retrying.
        const body = (await res.json().catch(() => undefined)) as { error?: { code?: string; message?: string } } | undefined;
        throw new CountersignError(
          body?.error?.code ?? 'unavailable',
          body?.error?.message ?? `the event stream answered ${res.status}`,
          res.status,
        );
      }
      if (res.ok && res.body) {
        backoff = 100;
        for await (const msg of parseSse(res.body)) {
          if (msg.id !== undefined && /^\d+$/.test(msg.id)) lastId = Number(msg.id);
          if (msg.data === '') continue;
          if (msg.event === 'reset') {
            const r = JSON.parse(msg.data) as { requested_after: number; oldest_available: number | null; head: number };
            const reset = new EventsReset(r.requested_after, r.oldest_available, r.head);
            if (!opts.onReset) throw reset;
            await opts.onReset(reset);
            continue;
          }
          const ev = JSON.parse(msg.data) as CountersignEvent;
          lastId = ev.event_id;
          if (filter.types && !(filter.types as readonly EventType[]).includes(ev.type)) continue;
          yield ev as unknown as EventOf<T>;
        }
      } else {
        await res.body?.cancel(); // a 5xx: the gateway is restarting or overloaded
      }
    } catch (e) {
      if (opts.signal?.aborted) return;
      // A refused request or a reset the caller did not handle: retrying would not change it.
      if (e instanceof CountersignError) throw e;
    }
    // The stream ended or the gateway went away: reconnect after the last event seen.
    await sleep(backoff, opts.signal);
    backoff = Math.min(backoff * 2, 5000);
  }
}
