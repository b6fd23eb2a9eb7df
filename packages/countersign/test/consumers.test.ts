/*
 * Durable consumers: a cursor in the database, one lease per consumer name, at-least-once delivery with a
 * stable idempotency key, retries with back-off, dead letters an admin replays. Real gateways on both
 * databases; time is a fake clock, so leases and back-off are driven, never waited for.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { ConsumerRegistry } from '../src/events/consumers/registry.js';
import { ConsumerRunner } from '../src/events/consumers/runner.js';
import type { Delivery } from '../src/events/consumers/types.js';
import { readAfter } from '../src/events/outbox.js';
import type { StoredEvent } from '../src/events/types.js';
import { type Gateway, startGateway } from '../src/gateway.js';
import { FakeClock } from '../src/lib/clock.js';
import { forEachDialect, propose, review, type World, world } from './helpers.js';

async function consumerRow(w: World, name: string) {
  return w.gw.deps.db.read.selectFrom('event_consumers').selectAll().where('name', '=', name).executeTakeFirstOrThrow();
}

async function head(w: World): Promise<number> {
  const row = await w.gw.deps.db.read.selectFrom('chain_head').select('event_seq').executeTakeFirstOrThrow();
  return Number(row.event_seq);
}

/** A second gateway on the same database (same SQLite file or PostgreSQL schema), as another node would be. */
function secondNode(w: World, clock: FakeClock): Promise<Gateway> {
  return startGateway(w.gw.deps.config, {
    listen: false,
    clock,
    logger: pino({ level: 'silent' }),
    ...(w.env.schema ? { schema: w.env.schema } : {}),
  });
}

forEachDialect('durable consumers', (dialect) => {
  let w: World;
  let clock: FakeClock;
  before(async () => {
    clock = new FakeClock();
    w = await world(dialect, { clock });
  });
  after(async () => {
    await w.close();
  });

  test('a consumer gets every event after it registered once, in order, and its cursor reaches the head', async () => {
    const seen: Delivery[] = [];
    w.gw.consumers.register({ name: 'every-event', handle: (d) => void seen.push(d) });
    await w.gw.consumerRunner.tick('every-event');
    const start = Number((await consumerRow(w, 'every-event')).cursor);
    for (let i = 0; i < 5; i++) await propose(w, { arguments: { i } });
    await w.gw.consumerRunner.tick('every-event');
    const top = await head(w);
    assert.deepEqual(
      seen.map((d) => d.event.seq),
      Array.from({ length: top - start }, (_, i) => start + 1 + i),
    );
    assert.ok(seen.every((d) => d.attempt === 1 && d.idempotencyKey === `every-event:${d.event.seq}`));
    assert.equal(Number((await consumerRow(w, 'every-event')).cursor), top);
  });

  test('a caught-up consumer takes the events this node just committed from memory, as the outbox holds them, and records its cursor', async () => {
    const seen: StoredEvent[] = [];
    w.gw.consumers.register({ name: 'from-memory', handle: ({ event }) => void seen.push(event) });
    await w.gw.consumerRunner.tick('from-memory');
    const start = Number((await consumerRow(w, 'from-memory')).cursor);
    const published: StoredEvent[] = [];
    const unsubscribe = w.gw.deps.bus.subscribe((e) => void published.push(e));
    // Who reads the consumer's retries meanwhile: nobody should (they cannot have changed).
    const read = w.gw.deps.db.read;
    const tables: string[] = [];
    const selectFrom = read.selectFrom.bind(read);
    read.selectFrom = ((from: string) => {
      tables.push(from);
      return selectFrom(from as 'events');
    }) as typeof read.selectFrom;
    let top: number;
    try {
      // No tick: the bus wakes the worker, as under load.
      for (let i = 0; i < 3; i++) await propose(w, { arguments: { memory: i } });
      top = await head(w);
      for (let i = 0; i < 400 && Number((await consumerRow(w, 'from-memory')).cursor) !== top; i++)
        await new Promise((r) => setTimeout(r, 5));
    } finally {
      unsubscribe();
      delete (read as { selectFrom?: unknown }).selectFrom;
    }
    assert.equal(Number((await consumerRow(w, 'from-memory')).cursor), top);
    assert.equal(published.length, top - start);
    // The very objects the bus published (an outbox read would have built new ones)…
    assert.equal(seen.length, published.length);
    assert.ok(seen.every((e, i) => e === published[i]));
    // …equal to the events as the outbox gives them back (but for the identity epoch they were delivered at).
    assert.deepEqual(
      seen.map(({ epoch: _delivery, ...e }) => e),
      await readAfter(read, start, {}, 100),
    );
    assert.ok(!tables.includes('event_consumer_retries'));
  });

  test('a restarted node resumes from the cursor and redelivers nothing it had passed', async () => {
    const before = (await propose(w, { arguments: { phase: 'before' } })).body.id as string;
    await w.gw.consumerRunner.tick();
    await w.gw.consumerRunner.stop();
    const after = (await propose(w, { arguments: { phase: 'after' } })).body.id as string;
    const seen: StoredEvent[] = [];
    const registry = new ConsumerRegistry();
    registry.register({ name: 'every-event', handle: ({ event }) => void seen.push(event) });
    const restarted = new ConsumerRunner(w.gw.deps, registry);
    restarted.start();
    try {
      await restarted.tick();
      assert.ok(seen.length > 0);
      assert.ok(seen.every((e) => e.actionId === after));
      assert.ok(!seen.some((e) => e.actionId === before));
      assert.equal(Number((await consumerRow(w, 'every-event')).cursor), await head(w));
    } finally {
      await restarted.stop();
      w.gw.consumerRunner.start();
    }
  });

  test('a lease held by a node that stopped answering is taken over after it expires, and the batch it had is redelivered with the same keys', async () => {
    // Node A takes a batch and hangs in the handler (as a process that died mid-batch would never record it).
    let release: () => void = () => undefined;
    const hung = new Promise<void>((r) => {
      release = r;
    });
    const onA: Delivery[] = [];
    const onB: Delivery[] = [];
    const a = new ConsumerRegistry();
    a.register({
      name: 'takeover',
      types: ['action.created'],
      handle: (d) => {
        onA.push(d);
        return hung;
      },
    });
    const b = new ConsumerRegistry();
    b.register({ name: 'takeover', types: ['action.created'], handle: (d) => void onB.push(d) });
    const runnerA = new ConsumerRunner(w.gw.deps, a);
    const runnerB = new ConsumerRunner(w.gw.deps, b);
    runnerA.start();
    await runnerA.tick(); // registered, lease taken, nothing to do yet
    runnerB.start();
    await runnerB.tick(); // sees A's live lease and waits
    const id = (await propose(w, { arguments: { takeover: true } })).body.id as string;
    void runnerA.tick();
    for (let i = 0; i < 200 && onA.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(onA.length, 1, 'A is holding the event');
    assert.equal((await consumerRow(w, 'takeover')).lease_owner, runnerA.owner);
    await runnerB.tick();
    assert.equal(onB.length, 0, 'B waits while the lease is live');

    await clock.advance(w.gw.deps.config.events.consumerLeaseMs + 1);
    await runnerB.tick();
    assert.equal(onB.length, 1, 'B took over and delivered the event A never finished');
    assert.equal(onB[0]?.event.actionId, id);
    assert.equal(onB[0]?.idempotencyKey, onA[0]?.idempotencyKey);
    assert.equal((await consumerRow(w, 'takeover')).lease_owner, runnerB.owner);

    // A wakes up: its record is refused (lost lease), so the cursor B moved is not touched twice.
    const cursor = Number((await consumerRow(w, 'takeover')).cursor);
    release();
    await runnerA.tick();
    assert.equal(Number((await consumerRow(w, 'takeover')).cursor), cursor);
    await runnerA.stop();
    await runnerB.stop();
  });

  test('the decision-metrics consumer counts a decision once, however many nodes run it', async () => {
    const b = await secondNode(w, clock);
    try {
      await b.consumerRunner.tick();
      const id = (await propose(w, { arguments: { decide: 'once' } })).body.id as string;
      assert.equal((await review(w, id, w.keys.alice, { decision: 'approve' })).status, 200);
      for (let i = 0; i < 3; i++) {
        await b.consumerRunner.tick();
        await clock.advance(w.gw.deps.config.events.consumerLeaseMs + 1);
      }
      let approved = 0;
      let observed = 0;
      for (const node of [w.gw, b]) {
        for (const v of (await node.deps.metrics.decisions.get()).values) if (v.labels.outcome === 'approved') approved += v.value;
        for (const v of (await node.deps.metrics.timeToDecision.get()).values) {
          if (v.labels.outcome === 'approved' && (v as { metricName?: string }).metricName?.endsWith('_count')) observed += v.value;
        }
      }
      assert.equal(approved, 1);
      assert.equal(observed, 1);
    } finally {
      await b.close();
    }
  });
});

test('two gateways on one PostgreSQL database running the same consumer deliver each event exactly once, through a hand-over', async () => {
  // Real clock: the nodes really contend for the lease while both commit events. The lease outlives any
  // stall of a loaded machine, so no lease lapses mid-delivery (a lapse is redelivery, which consumers
  // absorb by idempotency key: at-least-once); what changes hands here is an explicit hand-over.
  const w = await world('postgres', { config: (c) => ({ ...c, events: { ...c.events, consumerLeaseMs: 10_000 } }) });
  const b = await startGateway(w.gw.deps.config, { listen: false, logger: pino({ level: 'silent' }), schema: w.env.schema as string });
  const count = new Map<number, number>();
  const handle = ({ event }: Delivery) => void count.set(event.seq, (count.get(event.seq) ?? 0) + 1);
  try {
    w.gw.consumers.register({ name: 'exactly-once', handle });
    b.consumers.register({ name: 'exactly-once', handle });
    await Promise.all([w.gw.consumerRunner.tick(), b.consumerRunner.tick()]);
    const start = Number((await consumerRow(w, 'exactly-once')).cursor);
    const onB = { ...w, gw: b };
    const proposals: Promise<unknown>[] = [];
    for (let i = 0; i < 40; i++) proposals.push(propose(i % 2 === 0 ? w : onB, { arguments: { i } }));
    await Promise.all(proposals);
    // Whoever holds the lease stops (and hands it over); the other node finishes the rest.
    const holder = (await consumerRow(w, 'exactly-once')).lease_owner;
    const [stopping, staying] = holder === b.consumerRunner.owner ? [b, w.gw] : [w.gw, b];
    await stopping.consumerRunner.stop();
    for (let i = 0; i < 20; i++) proposals.push(propose(stopping === b ? w : onB, { arguments: { late: i } }));
    await Promise.all(proposals);
    const top = await head(w);
    for (let i = 0; i < 100 && Number((await consumerRow(w, 'exactly-once')).cursor) < top; i++) {
      await staying.consumerRunner.tick();
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(Number((await consumerRow(w, 'exactly-once')).cursor), top);
    for (let seq = start + 1; seq <= top; seq++) assert.equal(count.get(seq), 1, `event ${seq} delivered once`);
    assert.equal(count.size, top - start);
  } finally {
    await b.close();
    await w.close();
  }
});
