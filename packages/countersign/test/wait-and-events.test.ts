import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, test } from 'node:test';
import type { ActionView } from '../src/domain/actions/schemas.js';
import { FakeClock } from '../src/lib/clock.js';
import { type ApiResponse, call, forEachDialect, propose, review, type World, world } from './helpers.js';

interface SseEvent {
  id: string | undefined;
  event: string;
  data: {
    event_id: number;
    type: string;
    action_id: string | null;
    agent_id: string | null;
    session_id: string | null;
    time: string;
    action: ActionView;
  };
}

/** One block of the text/event-stream format; null for blocks without data (retry:, comments). */
function parseBlock(block: string): SseEvent | null {
  let id: string | undefined;
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') id = value;
    else if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  return data.length === 0 ? null : { id, event, data: JSON.parse(data.join('\n')) };
}

/** A real HTTP client for GET /v1/events: fetch, a small SSE parser, and a queue to read events from. */
class EventStream {
  readonly received: SseEvent[] = [];
  private read = 0;
  private ended = false;
  private wake: (() => void) | undefined;

  private constructor(
    readonly response: Response,
    private readonly abort: AbortController,
  ) {
    void this.pump();
  }

  static async open(w: World, key: string, query = '', headers: Record<string, string> = {}): Promise<EventStream> {
    const abort = new AbortController();
    const res = await fetch(`${w.gw.url}/v1/events${query ? `?${query}` : ''}`, {
      headers: { authorization: `Bearer ${key}`, accept: 'text/event-stream', ...headers },
      signal: abort.signal,
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const s = new EventStream(res, abort);
    open.add(s);
    return s;
  }

  private async pump(): Promise<void> {
    const body = this.response.body;
    if (!body) return;
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true }).replaceAll('\r\n', '\n');
        let end = buffer.indexOf('\n\n');
        while (end !== -1) {
          const ev = parseBlock(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          if (ev) this.received.push(ev);
          end = buffer.indexOf('\n\n');
        }
        this.wake?.();
      }
    } catch {
      // aborted by close()
    } finally {
      this.ended = true;
      this.wake?.();
    }
  }

  /** The next event not yet read; waits for it. */
  async next(): Promise<SseEvent> {
    while (this.read >= this.received.length) {
      if (this.ended) throw new Error('the event stream ended');
      await new Promise<void>((r) => {
        this.wake = r;
      });
    }
    return this.received[this.read++] as SseEvent;
  }

  async take(n: number): Promise<SseEvent[]> {
    const out: SseEvent[] = [];
    while (out.length < n) out.push(await this.next());
    return out;
  }

  /** Reads up to and including the first event that matches; returns everything read. */
  async until(match: (e: SseEvent) => boolean): Promise<SseEvent[]> {
    const out: SseEvent[] = [];
    for (;;) {
      const e = await this.next();
      out.push(e);
      if (match(e)) return out;
    }
  }

  close(): void {
    open.delete(this);
    this.abort.abort();
  }
}

const open = new Set<EventStream>();

const isEvent = (type: string, actionId: string) => (e: SseEvent) => e.event === type && e.data.action_id === actionId;

/** The SSE frame and its payload agree, and ids only ever go up. */
function assertWellFormed(events: SseEvent[], after = 0): void {
  let last = after;
  for (const e of events) {
    assert.equal(e.id, String(e.data.event_id), 'id: line equals the payload event_id');
    assert.equal(e.event, e.data.type);
    assert.ok(e.data.event_id > last, `event ids increase: ${e.data.event_id} after ${last}`);
    last = e.data.event_id;
    assert.equal(e.data.action_id, e.data.action.id);
    assert.equal(e.data.agent_id, e.data.action.agent.id);
  }
}

/** The committed events a stream for this session should deliver after `after`, from the outbox table. */
async function storedEvents(w: World, sessionId: string, after: number) {
  const rows = await w.gw.deps.db.read
    .selectFrom('events')
    .select(['seq', 'type'])
    .where('session_id', '=', sessionId)
    .where('seq', '>', after)
    .orderBy('seq')
    .execute();
  return rows.map((r) => ({ seq: Number(r.seq), type: r.type }));
}

/** Open long-poll or SSE connections, from the gateway's own gauge. */
async function waiters(w: World, kind: 'long_poll' | 'sse'): Promise<number> {
  const m = await w.gw.deps.metrics.waiters.get();
  return m.values.find((v) => v.labels.kind === kind)?.value ?? 0;
}

const longPollWaiters = (w: World) => waiters(w, 'long_poll');

/** Polls a condition on real time without asserting anything about how long it took. */
async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.fail(`never happened: ${what}`);
}

/** Settles a request started earlier, remembering whether it has answered yet. */
function track(p: Promise<ApiResponse>) {
  const t = { done: false, result: p };
  void p.then(() => {
    t.done = true;
  });
  return t;
}

const session = () => `s-${randomUUID()}`;
const HOUR = 3_600_000;

forEachDialect('long-poll and event stream', (dialect) => {
  let w: World;
  let clock: FakeClock;
  before(async () => {
    clock = new FakeClock();
    w = await world(dialect, { listen: true, clock });
  });
  afterEach(() => {
    for (const s of [...open]) s.close();
  });
  after(async () => w.close());

  test('a wait on an action that is already decided answers at once, with no time passing', async () => {
    const { body: a } = await propose(w);
    await review(w, a.id, w.keys.alice, { decision: 'deny', reason: 'not today' });
    // The clock is fake and never moves here: only an immediate answer can resolve this.
    const r = await call(w, 'GET', `/v1/actions/${a.id}?wait=5`, w.keys.agent);
    assert.equal(r.status, 200);
    assert.equal(r.body.status, 'denied');
    assert.equal(r.body.reason, 'not today');
    assert.equal(await longPollWaiters(w), 0);
  });

  test('a held wait answers with the decided action as soon as a review lands', async () => {
    const { body: a } = await propose(w, { arguments: { env: 'production', replicas: 10 } });
    const held = track(call(w, 'GET', `/v1/actions/${a.id}?wait=30`, w.keys.agent));
    await eventually('the wait is held', async () => (await longPollWaiters(w)) === 1);
    assert.equal(held.done, false);
    const decided = await review(w, a.id, w.keys.alice, {
      decision: 'approve',
      reason: 'two is plenty',
      arguments: { env: 'production', replicas: 2 },
    });
    assert.equal(decided.status, 200);
    const r = await held.result;
    assert.equal(r.status, 200);
    assert.equal(r.body.status, 'approved');
    assert.deepEqual(r.body.arguments, { env: 'production', replicas: 2 });
    assert.deepEqual(r.body.original_arguments, { env: 'production', replicas: 10 });
    assert.equal(r.body.reason, 'two is plenty');
    assert.equal(r.body.decided_by.type, 'user');
    assert.equal(r.body.decided_by.label, 'alice@example.com');
    assert.equal(r.body.decided_at, decided.body.decided_at);
    assert.equal(r.body.version, 2);
    assert.equal(await longPollWaiters(w), 0);
  });

  test('a held wait also ends on a cancel, and every waiter on the action gets the same answer', async () => {
    const { body: a } = await propose(w);
    const waits = [
      track(call(w, 'GET', `/v1/actions/${a.id}?wait=60`, w.keys.agent)),
      track(call(w, 'GET', `/v1/actions/${a.id}?wait=60`, w.keys.alice)),
      track(call(w, 'GET', `/v1/actions/${a.id}?wait=60`, w.keys.victor)),
    ];
    await eventually('all three waits are held', async () => (await longPollWaiters(w)) === 3);
    await call(w, 'POST', `/v1/actions/${a.id}/cancel`, w.keys.agent, { reason: 'changed my mind' });
    for (const t of waits) {
      const r = await t.result;
      assert.equal(r.body.status, 'cancelled');
      assert.equal(r.body.reason, 'changed my mind');
    }
  });

  test('a decision on another action does not end a wait', async () => {
    const { body: a } = await propose(w);
    const { body: b } = await propose(w);
    const held = track(call(w, 'GET', `/v1/actions/${a.id}?wait=0.5`, w.keys.agent));
    await eventually('the wait is held', async () => (await longPollWaiters(w)) === 1);
    await review(w, b.id, w.keys.alice, { decision: 'approve' });
    await w.gw.deps.committer.flush();
    await new Promise((r) => setImmediate(r));
    assert.equal(held.done, false);
    await clock.advance(500);
    assert.equal((await held.result).body.status, 'pending');
  });

  test('when the wait runs out the action is answered as still pending', async () => {
    const { body: a } = await propose(w);
    const held = track(call(w, 'GET', `/v1/actions/${a.id}?wait=0.2`, w.keys.agent));
    await eventually('the wait is held', async () => (await longPollWaiters(w)) === 1);
    await clock.advance(199);
    assert.equal(held.done, false, 'not before the wait runs out');
    await clock.advance(1);
    const r = await held.result;
    assert.equal(r.status, 200);
    assert.equal(r.body.status, 'pending');
    assert.equal(r.body.version, 1);
    assert.equal(r.body.decided_at, null);
    assert.equal(await longPollWaiters(w), 0);
  });

  test('a wait of zero answers the current state at once', async () => {
    const { body: a } = await propose(w);
    const r = await call(w, 'GET', `/v1/actions/${a.id}?wait=0`, w.keys.agent);
    assert.equal(r.body.status, 'pending');
  });

  test('a pending action streams action.created then tool.approval_required, each with an id equal to its event_id', async () => {
    const s = session();
    const stream = await EventStream.open(w, w.keys.alice, `session=${s}`);
    const { body: a } = await propose(w, { session_id: s });
    const events = await stream.take(2);
    assert.deepEqual(
      events.map((e) => e.event),
      ['action.created', 'tool.approval_required'],
    );
    assertWellFormed(events);
    for (const e of events) {
      assert.equal(e.data.action_id, a.id);
      assert.equal(e.data.agent_id, w.ids.agent);
      assert.equal(e.data.session_id, s);
      assert.equal(e.data.action.status, 'pending');
      assert.equal(e.data.time, a.created_at);
    }
  });

  test('approvals, denials with their reason, cancellations and expiries each arrive as their own event', async () => {
    const s = session();
    const stream = await EventStream.open(w, w.keys.alice, `session=${s}`);
    const approve = (await propose(w, { session_id: s })).body.id;
    const deny = (await propose(w, { session_id: s })).body.id;
    const cancel = (await propose(w, { session_id: s })).body.id;
    const expire = (await propose(w, { session_id: s })).body.id;
    await review(w, approve, w.keys.alice, { decision: 'approve' });
    await review(w, deny, w.keys.carol, { decision: 'deny', reason: 'change freeze' });
    await call(w, 'POST', `/v1/actions/${cancel}/cancel`, w.keys.agent, { reason: 'superseded' });
    await clock.advance(HOUR);
    await w.gw.scheduler.tick();
    await w.gw.scheduler.tick();
    const events = await stream.until(isEvent('action.expired', expire));
    assertWellFormed(events);
    const find = (type: string, id: string) => {
      const e = events.find(isEvent(type, id));
      assert.ok(e, `${type} for ${id}`);
      return e;
    };
    assert.equal(find('action.approved', approve).data.action.status, 'approved');
    const denied = find('action.denied', deny);
    assert.equal(denied.data.action.status, 'denied');
    assert.equal(denied.data.action.reason, 'change freeze');
    assert.equal(find('action.cancelled', cancel).data.action.reason, 'superseded');
    const expired = find('action.expired', expire);
    assert.equal(expired.data.action.status, 'expired');
    assert.equal(expired.data.action.decided_by?.type, 'system');
    assert.equal(events.filter((e) => e.data.action_id === expire).length, 3, 'created, approval_required, expired');
  });

  test('executed and failed results are streamed too', async () => {
    const s = session();
    const stream = await EventStream.open(w, w.keys.agent, `session=${s}`);
    const ok = (await propose(w, { session_id: s })).body.id;
    const bad = (await propose(w, { session_id: s })).body.id;
    for (const id of [ok, bad]) {
      const a = (await review(w, id, w.keys.alice, { decision: 'approve' })).body;
      const run = { id, tool: a.tool, arguments: a.arguments, resource: a.resource };
      assert.equal((await call(w, 'POST', '/v1/receipts/redeem', w.keys.agent, { receipt: a.receipt, action: run })).status, 200);
    }
    await call(w, 'POST', `/v1/actions/${ok}/result`, w.keys.agent, { outcome: 'succeeded', output: { n: 1 } });
    await call(w, 'POST', `/v1/actions/${bad}/result`, w.keys.agent, { outcome: 'failed' });
    const events = await stream.until(isEvent('action.failed', bad));
    assert.ok(events.some(isEvent('action.executed', ok)));
    assertWellFormed(events);
  });

  test('Last-Event-ID replays exactly the missed events in order, then continues live', async () => {
    const s = session();
    const first = await EventStream.open(w, w.keys.alice, `session=${s}`);
    const { body: a } = await propose(w, { session_id: s });
    const seen = await first.take(2);
    const lastId = seen[1]?.id as string;
    first.close();

    // Missed while disconnected:
    await review(w, a.id, w.keys.alice, { decision: 'approve' });
    const { body: b } = await propose(w, { session_id: s });
    const missed = await storedEvents(w, s, Number(lastId));
    assert.equal(missed.length, 3);

    const resumed = await EventStream.open(w, w.keys.alice, `session=${s}`, { 'last-event-id': lastId });
    const replayed = await resumed.take(3);
    assert.deepEqual(
      replayed.map((e) => ({ seq: e.data.event_id, type: e.event })),
      missed,
    );
    assertWellFormed(replayed, Number(lastId));
    assert.deepEqual(
      replayed.map((e) => e.data.action_id),
      [a.id, b.id, b.id],
    );

    await review(w, b.id, w.keys.alice, { decision: 'deny', reason: 'live' });
    const live = await resumed.next();
    assert.equal(live.event, 'action.denied');
    assert.equal(live.data.action_id, b.id);
    assertWellFormed([...replayed, live], Number(lastId));
  });

  test('?after= replays like Last-Event-ID, and the header wins when both are sent', async () => {
    const s = session();
    const { body: a } = await propose(w, { session_id: s });
    const all = await storedEvents(w, s, 0);
    const firstSeq = all[0]?.seq as number;
    const viaQuery = await EventStream.open(w, w.keys.alice, `session=${s}&after=${firstSeq}`);
    const q = await viaQuery.take(1);
    assert.equal(q[0]?.data.event_id, all[1]?.seq);
    const viaBoth = await EventStream.open(w, w.keys.alice, `session=${s}&after=0`, { 'last-event-id': String(firstSeq) });
    const h = await viaBoth.take(1);
    assert.equal(h[0]?.data.event_id, all[1]?.seq);
    await review(w, a.id, w.keys.alice, { decision: 'approve' });
    for (const stream of [viaQuery, viaBoth]) {
      const e = await stream.next();
      assert.equal(e.event, 'action.approved');
      assert.equal(stream.received.filter((x) => x.data.event_id === all[1]?.seq).length, 1, 'no duplicate');
    }
  });

  test('a resume while events keep committing delivers each event exactly once, in commit order', async () => {
    const s = session();
    await propose(w, { session_id: s });
    const start = (await storedEvents(w, s, 0))[1]?.seq as number;
    for (let i = 0; i < 20; i++) await propose(w, { session_id: s, arguments: { i } });
    // Connect with a backlog to replay while more proposals commit concurrently.
    const [stream] = await Promise.all([
      EventStream.open(w, w.keys.alice, `session=${s}`, { 'last-event-id': String(start) }),
      Promise.all(Array.from({ length: 20 }, (_, i) => propose(w, { session_id: s, arguments: { concurrent: i } }))),
    ]);
    const { body: sentinel } = await propose(w, { session_id: s, tool: 'sentinel' });
    const got = await stream.until(isEvent('tool.approval_required', sentinel.id));
    const want = await storedEvents(w, s, start);
    assert.deepEqual(
      got.map((e) => ({ seq: e.data.event_id, type: e.event })),
      want,
    );
    assertWellFormed(got, start);
  });

  test('the action filter streams one action’s events only', async () => {
    const { body: a } = await propose(w);
    const { body: b } = await propose(w);
    const stream = await EventStream.open(w, w.keys.alice, `action=${a.id}`);
    await review(w, b.id, w.keys.alice, { decision: 'approve' });
    await review(w, a.id, w.keys.alice, { decision: 'deny', reason: 'no' });
    const events = await stream.until(isEvent('action.denied', a.id));
    assert.equal(events.length, 1);
    const replay = await EventStream.open(w, w.keys.alice, `action=${a.id}&after=0`);
    const all = await replay.take(3);
    assert.deepEqual(
      all.map((e) => e.event),
      ['action.created', 'tool.approval_required', 'action.denied'],
    );
    for (const e of all) assert.equal(e.data.action_id, a.id);
  });

  test('the agent filter takes a name or an id', async () => {
    for (const agent of ['other-agent', w.ids.otherAgent]) {
      const stream = await EventStream.open(w, w.keys.alice, `agent=${agent}`);
      await propose(w);
      const { body: theirs } = await propose(w, {}, w.keys.otherAgent);
      const events = await stream.until(isEvent('tool.approval_required', theirs.id));
      for (const e of events) assert.equal(e.data.agent_id, w.ids.otherAgent);
      assert.equal(events.length, 2);
      stream.close();
    }
  });

  test('the session filter streams one session’s events only', async () => {
    const [s1, s2] = [session(), session()];
    const stream = await EventStream.open(w, w.keys.alice, `session=${s2}`);
    await propose(w, { session_id: s1 });
    await propose(w);
    const { body: mine } = await propose(w, { session_id: s2 }, w.keys.otherAgent);
    const events = await stream.until(isEvent('tool.approval_required', mine.id));
    assert.equal(events.length, 2);
    for (const e of events) assert.equal(e.data.session_id, s2);
  });

  test('an agent’s stream never shows another agent’s events, live or replayed, whatever it filters on', async () => {
    const s = session();
    const live = await EventStream.open(w, w.keys.agent);
    const asked = await EventStream.open(w, w.keys.agent, `agent=other-agent&session=${s}`);
    const { body: theirs } = await propose(w, { session_id: s }, w.keys.otherAgent);
    await review(w, theirs.id, w.keys.alice, { decision: 'approve' });
    const { body: mine } = await propose(w, { session_id: s });
    const liveEvents = await live.until(isEvent('tool.approval_required', mine.id));
    const askedEvents = await asked.until(isEvent('tool.approval_required', mine.id));
    for (const e of [...liveEvents, ...askedEvents]) assert.equal(e.data.agent_id, w.ids.agent);

    const replay = await EventStream.open(w, w.keys.agent, 'after=0');
    const { body: sentinel } = await propose(w, { tool: 'sentinel' });
    const replayed = await replay.until(isEvent('tool.approval_required', sentinel.id));
    for (const e of replayed) assert.equal(e.data.agent_id, w.ids.agent);
    const own = await w.gw.deps.db.read.selectFrom('events').select('seq').where('agent_id', '=', w.ids.agent).orderBy('seq').execute();
    assert.deepEqual(
      replayed.map((e) => e.data.event_id),
      own.map((r) => Number(r.seq)),
    );
    assert.ok(
      replayed.every((e) => e.data.action_id !== theirs.id),
      'the other agent’s action is never replayed',
    );
  });

  test('people see every agent’s events', async () => {
    const stream = await EventStream.open(w, w.keys.victor);
    const { body: mine } = await propose(w);
    const { body: theirs } = await propose(w, {}, w.keys.otherAgent);
    const events = await stream.until(isEvent('tool.approval_required', theirs.id));
    assert.ok(events.some(isEvent('tool.approval_required', mine.id)));
  });

  test('closing the gateway ends open event streams instead of waiting for their clients to leave', { timeout: 20_000 }, async () => {
    const own = await world(dialect, { listen: true });
    const stream = await EventStream.open(own, own.keys.alice);
    await propose(own);
    assert.equal((await stream.next()).event, 'action.created');
    await own.close();
    await stream.take(1);
    await assert.rejects(stream.next(), /the event stream ended/);
  });

  test('a closed stream stops listening', async () => {
    await eventually('earlier streams are gone', async () => (await waiters(w, 'sse')) === 0);
    const listeners = w.gw.deps.bus.listenerCount();
    const stream = await EventStream.open(w, w.keys.alice);
    assert.equal(await waiters(w, 'sse'), 1);
    assert.equal(w.gw.deps.bus.listenerCount(), listeners + 1);
    stream.close();
    await eventually('the server notices the disconnect', async () => (await waiters(w, 'sse')) === 0);
    assert.equal(w.gw.deps.bus.listenerCount(), listeners);
  });
});
