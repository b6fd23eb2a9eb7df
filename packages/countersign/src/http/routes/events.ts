import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { Deps } from '../../deps.js';
import { EventsQuery } from '../../domain/actions/schemas.js';
import type { Principal } from '../../domain/identities/principal.js';
import { floorSeq, headSeq, type OutboxFilter, pagesAfter, visible } from '../../events/outbox.js';
import { EventMessage, type StoredEvent } from '../../events/types.js';
import { CsError } from '../../lib/errors.js';
import { isId } from '../../lib/ids.js';
import { defineRoute, type RouteSpec } from '../route-spec.js';

const HEARTBEAT_MS = 15_000;

/** The wire form of one event; `id` is the resume point for Last-Event-ID. */
export function formatSse(e: StoredEvent): string {
  // The envelope, then the payload's fields (`action`, `deadlines`, `asked`, or `policy`): events/types.ts.
  const payload = {
    event_id: e.seq,
    type: e.type,
    action_id: e.actionId,
    agent_id: e.agentId,
    session_id: e.sessionId,
    root_id: e.rootId,
    time: new Date(e.ts).toISOString(),
    ...e.data,
  };
  return `id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(payload)}\n\n`;
}

/**
 * A resume from an id whose successors retention has deleted: the stream cannot be gap-free, so it says
 * so instead of silently skipping. The client resynchronises from the API; the stream goes on live from
 * the head (`id` moves Last-Event-ID there, so a reconnect does not get the reset again). docs/events.md.
 */
export function formatReset(requestedAfter: number, floor: number, head: number): string {
  const data = { reason: 'events_deleted', requested_after: requestedAfter, oldest_available: floor < head ? floor + 1 : null, head };
  return `id: ${head}\nevent: reset\ndata: ${JSON.stringify(data)}\n\n`;
}

async function resolveAgent(deps: Deps, agent: string | undefined): Promise<string | undefined> {
  if (agent === undefined || isId(agent)) return agent;
  const row = await deps.db.read.selectFrom('agents').select('id').where('name', '=', agent).executeTakeFirst();
  if (!row) throw new CsError('not_found', `no agent named ${agent}`);
  return row.id;
}

export const eventRoutes: RouteSpec[] = [
  defineRoute({
    method: 'GET',
    url: '/v1/events',
    operationId: 'streamEvents',
    summary: 'Server-sent events: the event catalogue (docs/events.md), live and resumable',
    tags: ['events'],
    auth: 'any',
    query: EventsQuery,
    headers: {
      'last-event-id': {
        description:
          'Resume after this event id. If retention has deleted events after it, the stream starts with an `event: reset` message and goes on from the head',
      },
    },
    responses: {
      200: {
        description:
          'An event stream: one message per event of the catalogue (and `event: reset` first when a resume reaches past retention: docs/events.md)',
        contentType: 'text/event-stream',
        itemSchema: EventMessage,
      },
    },
    // Counted as held while it replays: the server's close waits for it before the database closes.
    handler: ({ deps, principal, query, request, reply }) =>
      request.server.held.track(() => stream(deps, principal, query, request, reply)),
  }),
];

/** One event stream, from its first write until either side ends it. */
async function stream(
  deps: Deps,
  principal: Principal,
  query: z.infer<typeof EventsQuery>,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const held = request.server.held;
  const header = request.headers['last-event-id'];
  const fromHeader = typeof header === 'string' && /^\d{1,15}$/.test(header.trim()) ? Number(header.trim()) : undefined;
  const after = fromHeader ?? (query.after === undefined ? undefined : Number(query.after));
  const agentId = principal.type === 'agent' ? principal.id : await resolveAgent(deps, query.agent);
  const filter: OutboxFilter = {
    ...(query.action !== undefined ? { actionId: query.action } : {}),
    ...(agentId !== undefined ? { agentId } : {}),
    ...(query.session !== undefined ? { sessionId: query.session } : {}),
    ...(query.root !== undefined ? { rootId: query.root } : {}),
  };

  reply.hijack();
  const res = reply.raw;
  const log = request.log;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.write('retry: 2000\n\n');
  deps.metrics.waiters.inc({ kind: 'sse' });
  // The server's close waits until the stream has ended (and its last delivery settled).
  const ended = held.hold();

  // Subscribe before replaying so nothing committed in between is missed; live
  // events are held until the replay has caught up, then deduplicated by seq.
  let lastSent = after ?? 0;
  let buffering = true;
  // Set once the stream is ended by either side; nothing may be written after that.
  let closed = false;
  const buffered: StoredEvent[] = [];
  const send = (e: StoredEvent) => {
    if (closed || e.seq <= lastSent) return;
    lastSent = e.seq;
    res.write(formatSse(e));
  };
  // Ending the response leaves a keep-alive socket the closing server would still wait on; drop it once flushed.
  const end = () => {
    closed = true;
    res.end(() => res.socket?.destroy());
  };
  // The stream was authenticated once; this ends it when its key is revoked, its person or agent
  // disabled, or their role or groups change (the client reconnects and is authorized afresh).
  const watch = deps.identities.watch(principal, { endOnChange: true, verifiedAt: request.identityEpoch ?? undefined });
  watch.signal.addEventListener('abort', end, { once: true });
  // Live events pass the revocation check before they are written: the epoch read starts after
  // they committed, so a revocation committed before them is seen and they are never sent.
  const queue: StoredEvent[] = [];
  let flushing = false;
  const flush = async () => {
    if (flushing) return;
    flushing = true;
    try {
      // Let the rest of this publish (a commit's events arrive one by one) join the batch: one check for all.
      await Promise.resolve();
      while (queue.length > 0 && !closed) {
        const batch = queue.splice(0);
        await watch.sync();
        for (const e of batch) send(e);
      }
    } catch (err) {
      // Unverified events are not sent; the client reconnects with Last-Event-ID and is checked afresh.
      log.warn({ err }, 'identity check failed; ending the event stream');
      end();
    } finally {
      flushing = false;
    }
  };
  const deliver = (events: StoredEvent[]) => {
    queue.push(...events);
    // Counted as held too, so a close never destroys the database under its identity check.
    if (!flushing) void held.track(flush);
  };
  // Indexed by the filter's narrowest part (an agent's stream always has its agent), so an event
  // reaches only the streams it could concern; `visible` is still the check that decides.
  const unsubscribe = deps.bus.subscribe((e) => {
    if (!visible(e, principal, filter)) return;
    if (buffering) buffered.push(e);
    else deliver([e]);
  }, filter);
  // "Now" for a stream without a resume point: what this gateway had published when it subscribed.
  // Everything published after that is newer, so nothing that reaches the bus from here on is dropped
  // (a head read after subscribing could count an event the bus delivers only later, and drop it).
  const publishedAtSubscribe = deps.feed.highWater();
  const heartbeat = setInterval(() => {
    if (closed) return;
    res.write(': keep-alive\n\n');
    // A change made without moving the epoch (a hand edit of the database) is caught here at the latest.
    watch.recheck().catch(() => end());
  }, HEARTBEAT_MS);
  heartbeat.unref();
  const closing = request.server.closing.signal;
  closing.addEventListener('abort', end, { once: true });
  const onClose = () => {
    closed = true;
    closing.removeEventListener('abort', end);
    watch.signal.removeEventListener('abort', end);
    watch.release();
    unsubscribe();
    clearInterval(heartbeat);
    deps.metrics.waiters.dec({ kind: 'sse' });
    ended();
  };
  // A client that left while the request was being authenticated closed it before the listener was there.
  if (res.closed) onClose();
  else res.once('close', onClose);

  try {
    if (after === undefined) {
      // "From now on": tell the client where now is (an id-only message moves its Last-Event-ID
      // without an event), so a reconnect before the first event still resumes without a gap.
      lastSent = publishedAtSubscribe ?? (await headSeq(deps.db.read));
      if (!closed) res.write(`id: ${lastSent}\n\n`);
    } else {
      const floor = await floorSeq(deps.db.read);
      if (after < floor) {
        // The head is read after the floor; the live events buffered since subscribing continue from it.
        lastSent = await headSeq(deps.db.read);
        if (!closed) res.write(formatReset(after, floor, lastSent));
      } else {
        for await (const page of pagesAfter(deps.db.read, after, filter)) {
          // After the page was read, so a revocation committed before any of its events is seen.
          await watch.sync();
          if (closed) return;
          for (const e of page) if (visible(e, principal, filter)) send(e);
        }
      }
    }
  } catch (err) {
    log.error({ err }, 'event replay failed');
    end();
    return;
  }
  buffering = false;
  deliver(buffered.splice(0));
}
