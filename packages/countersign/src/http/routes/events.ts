import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { Deps } from '../../deps.js';
import { EventsQuery } from '../../domain/actions/schemas.js';
import type { Principal } from '../../domain/identities/principal.js';
import { floorSeq, headSeq, type OutboxFilter, pagesAfter } from '../../events/outbox.js';
import { EventMessage } from '../../events/types.js';
import { CsError } from '../../lib/errors.js';
import { isId } from '../../lib/ids.js';
import { defineRoute, type RouteSpec } from '../route-spec.js';

// The wire form lives with the streams; re-exported for the tests and the bench.
export { formatSse } from '../event-streams.js';

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

/** One event stream: opened (http/event-streams.ts holds it from here), replayed from its resume point, then live. */
async function stream(
  deps: Deps,
  principal: Principal,
  query: z.infer<typeof EventsQuery>,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
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
  // Subscribed before replaying so nothing committed in between is missed; live events are held
  // until the replay has caught up, then deduplicated by seq.
  const s = request.server.eventStreams.open(reply.raw, {
    principal,
    filter,
    verifiedAt: request.identityEpoch ?? undefined,
    log: request.log,
  });
  s.lastSent = after ?? 0;
  // "Now" for a stream without a resume point: what this gateway had published when it subscribed.
  // Everything published after that is newer, so nothing that reaches the bus from here on is dropped
  // (a head read after subscribing could count an event the bus delivers only later, and drop it).
  const publishedAtSubscribe = deps.feed.highWater();

  try {
    if (after === undefined) {
      // "From now on": tell the client where now is (an id-only message moves its Last-Event-ID
      // without an event), so a reconnect before the first event still resumes without a gap.
      s.lastSent = publishedAtSubscribe ?? (await headSeq(deps.db.read));
      if (!s.closed) s.res.write(`id: ${s.lastSent}\n\n`);
    } else {
      const floor = await floorSeq(deps.db.read);
      if (after < floor) {
        // The head is read after the floor; the live events buffered since subscribing continue from it.
        s.lastSent = await headSeq(deps.db.read);
        if (!s.closed) s.res.write(formatReset(after, floor, s.lastSent));
      } else {
        for await (const page of pagesAfter(deps.db.read, after, filter)) {
          // After the page was read, so a revocation committed before any of its events is seen.
          await s.watch.sync();
          if (s.closed) return;
          for (const e of page) if (s.shows(e)) s.send(e);
        }
      }
    }
  } catch (err) {
    request.log.error({ err }, 'event replay failed');
    s.end();
    return;
  }
  s.live();
}
