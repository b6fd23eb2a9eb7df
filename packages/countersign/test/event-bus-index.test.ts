import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Principal } from '../src/domain/identities/principal.js';
import { revokeKey } from '../src/domain/identities/revoke-key.js';
import { type BusScope, EventBus } from '../src/events/bus.js';
import { headSeq, matches, type OutboxFilter, readAfter, visible } from '../src/events/outbox.js';
import type { StoredEvent } from '../src/events/types.js';
import { ADMIN, call, forEachDialect, propose, review, type World, world } from './helpers.js';
import { SseClient } from './sse-client.js';

/** A committed event as the bus sees it; only the scope fields matter to the index. */
function event(seq: number, scope: { actionId?: string; agentId?: string; sessionId?: string; rootId?: string }): StoredEvent {
  return {
    seq,
    ts: seq,
    type: 'action.created',
    actionId: scope.actionId ?? null,
    agentId: scope.agentId ?? null,
    sessionId: scope.sessionId ?? null,
    rootId: scope.rootId ?? null,
    data: {},
  } as unknown as StoredEvent;
}

describe('the event bus index', () => {
  // Two agents, two sessions, a root action with a child and a grandchild, and an event with no action.
  const events = [
    event(1, { actionId: 'root', agentId: 'a1', sessionId: 's1' }),
    event(2, { actionId: 'child', agentId: 'a1', sessionId: 's2', rootId: 'root' }),
    event(3, { actionId: 'other', agentId: 'a2', sessionId: 's2' }),
    event(4, { actionId: 'grandchild', agentId: 'a2', sessionId: 's1', rootId: 'root' }),
    event(5, {}),
    event(6, { actionId: 'root', agentId: 'a1', sessionId: 's1' }),
    event(7, { actionId: 'child', agentId: 'a1', sessionId: 's2', rootId: 'root' }),
    event(8, { actionId: 'lone', agentId: 'a2' }),
  ];
  const seqs = (list: readonly StoredEvent[]) => list.map((e) => e.seq);

  function received(scope: BusScope): number[] {
    const bus = new EventBus();
    const got: StoredEvent[] = [];
    bus.subscribe((e) => got.push(e), scope);
    // Published in two commits, as the feed does.
    bus.publish(events.slice(0, 3));
    bus.publish(events.slice(3));
    return seqs(got);
  }

  test('a subscriber with one part in its scope gets exactly the events that part matches, in publish order', () => {
    const scopes: OutboxFilter[] = [
      { actionId: 'child' },
      { actionId: 'lone' },
      { agentId: 'a2' },
      { sessionId: 's1' },
      { rootId: 'root' },
      { rootId: 'child' },
      { actionId: 'nobody' },
    ];
    for (const scope of scopes) assert.deepEqual(received(scope), seqs(events.filter((e) => matches(e, scope))), JSON.stringify(scope));
  });

  test('a subscriber without a scope gets every event, including those with no action', () => {
    assert.deepEqual(received({}), seqs(events));
  });

  test('a scope of several parts gets every event it matches, from its narrowest part only', () => {
    const scope = { agentId: 'a1', sessionId: 's2', rootId: 'root' };
    const got = received(scope);
    for (const seq of seqs(events.filter((e) => matches(e, scope)))) assert.ok(got.includes(seq), `event ${seq} is delivered`);
    assert.deepEqual(got, seqs(events.filter((e) => e.sessionId === 's2')), 'indexed by the session, not by the agent');
  });

  test('an event reaches each subscriber once, even when it is the root action’s own and its root is itself', () => {
    const bus = new EventBus();
    const got: number[] = [];
    bus.subscribe((e) => got.push(e.seq), { rootId: 'root' });
    bus.publish([event(1, { actionId: 'root', rootId: 'root' })]);
    assert.deepEqual(got, [1]);
  });

  test('unsubscribing removes the subscriber and its index entry; a broken subscriber does not stop the others', () => {
    const bus = new EventBus();
    const got: number[] = [];
    const offThrowing = bus.subscribe(
      () => {
        throw new Error('broken');
      },
      { actionId: 'root' },
    );
    const off = bus.subscribe((e) => got.push(e.seq), { actionId: 'root' });
    const offAll = bus.subscribe(() => undefined);
    assert.equal(bus.listenerCount(), 3);
    bus.publish([event(1, { actionId: 'root' })]);
    assert.deepEqual(got, [1]);
    off();
    offThrowing();
    offAll();
    assert.equal(bus.listenerCount(), 0);
    bus.publish([event(2, { actionId: 'root' })]);
    assert.deepEqual(got, [1]);
  });
});

forEachDialect('event streams on the indexed bus', (dialect) => {
  let w: World;
  const streams: SseClient[] = [];
  before(async () => {
    w = await world(dialect, { listen: true });
  });
  afterEach(() => {
    for (const s of streams.splice(0)) s.close();
  });
  after(async () => w.close());

  async function open(key: string, query: string): Promise<SseClient> {
    const s = await SseClient.open(w.gw.url, key, query);
    streams.push(s);
    return s;
  }

  async function eventually(what: string, check: () => boolean): Promise<void> {
    for (let i = 0; i < 2000; i++) {
      if (check()) return;
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.fail(`never happened: ${what}`);
  }

  test('streams filtered by action, agent, session and root, and unfiltered ones, each get exactly what visible() allows, in order, across replay and live', async () => {
    const [s1, s2] = [`s-${randomUUID()}`, `s-${randomUUID()}`];
    const start = await headSeq(w.gw.deps.db.read);
    // Replayed: committed before the streams open.
    const root = (await propose(w, { session_id: s1 })).body;
    const child = (await propose(w, { parent_id: root.id, session_id: s2 })).body;
    const theirs = (await propose(w, { session_id: s2 }, w.keys.otherAgent)).body;

    const person = { type: 'user', id: w.ids.alice } as Principal;
    const agent = { type: 'agent', id: w.ids.agent } as Principal;
    const otherAgent = { type: 'agent', id: w.ids.otherAgent } as Principal;
    const cases: { name: string; key: string; principal: Principal; query: string; filter: OutboxFilter }[] = [
      { name: 'by action', key: w.keys.alice, principal: person, query: `action=${child.id}`, filter: { actionId: child.id } },
      { name: 'by agent', key: w.keys.alice, principal: person, query: `agent=${w.ids.otherAgent}`, filter: { agentId: w.ids.otherAgent } },
      { name: 'by session', key: w.keys.alice, principal: person, query: `session=${s2}`, filter: { sessionId: s2 } },
      { name: 'by root', key: w.keys.alice, principal: person, query: `root=${root.id}`, filter: { rootId: root.id } },
      { name: 'unfiltered', key: w.keys.alice, principal: person, query: '', filter: {} },
      { name: 'an agent’s, unfiltered', key: w.keys.agent, principal: agent, query: '', filter: { agentId: w.ids.agent } },
      {
        name: 'an agent’s, by session',
        key: w.keys.otherAgent,
        principal: otherAgent,
        query: `session=${s2}`,
        filter: { agentId: w.ids.otherAgent, sessionId: s2 },
      },
    ];
    const opened = await Promise.all(cases.map((c) => open(c.key, `${c.query ? `${c.query}&` : ''}after=${start}`)));

    // Live: committed while the streams are open.
    const grandchild = (await propose(w, { parent_id: child.id, session_id: s1 })).body;
    await review(w, root.id, w.keys.alice, { decision: 'approve' });
    const more = (await propose(w, { session_id: s2 }, w.keys.otherAgent)).body;
    await call(w, 'POST', `/v1/actions/${child.id}/cancel`, w.keys.agent, { reason: 'superseded' });
    await review(w, theirs.id, w.keys.carol, { decision: 'deny', reason: 'no' });
    await review(w, grandchild.id, w.keys.alice, { decision: 'deny', reason: 'no' });
    await call(w, 'POST', `/v1/actions/${more.id}/cancel`, w.keys.otherAgent, { reason: 'done' });

    const stored = await readAfter(w.gw.deps.db.read, start, {}, 10_000);
    const last = stored.at(-1) as StoredEvent;
    // The unfiltered stream gets the last event last: once it has, every stream has had its chance.
    await eventually('the unfiltered stream has everything', () => opened[4]?.events.some((e) => e.data.event_id === last.seq) ?? false);
    for (const [i, c] of cases.entries()) {
      const want = stored.filter((e) => visible(e, c.principal, c.filter)).map((e) => [e.seq, e.type]);
      assert.ok(want.length > 0, `${c.name}: the scenario gives it something`);
      const stream = opened[i] as SseClient;
      await eventually(`${c.name} has its ${want.length} events`, () => stream.events.length >= want.length);
      assert.deepEqual(
        stream.events.map((e) => [e.data.event_id, e.event]),
        want,
        c.name,
      );
    }
  });

  test('a stream filtered by one action still ends at once when its agent’s key is revoked, and gets nothing after', async () => {
    const own = await world(dialect, { listen: true });
    try {
      const a = (await propose(own)).body;
      const stream = await SseClient.open(own.gw.url, own.keys.agent, `action=${a.id}&after=0`);
      streams.push(stream);
      await stream.waitFor('tool.approval_required', a.id);
      await revokeKey(own.gw.deps, ADMIN, own.keys.agent.slice(0, 'cs_'.length + 12));
      await review(own, a.id, own.keys.alice, { decision: 'approve' });
      assert.ok(await stream.endsWithin(5000), 'the server ended the stream');
      assert.equal(
        stream.events.some((e) => e.event === 'action.approved'),
        false,
        'the decision after the revocation never reached it',
      );
      assert.equal(own.gw.deps.identities.size(), 0);
    } finally {
      await own.close();
    }
  });
});
