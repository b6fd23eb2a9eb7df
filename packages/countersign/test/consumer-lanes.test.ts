/*
 * A consumer with `concurrency` above 1: deliveries of different actions side by side (never more than the
 * bound), each action's in seq order; a handler's RetryLater (a platform's Retry-After) honoured for its
 * retry and pausing the consumer, the cursor never passing an event that did not run; a long batch keeping
 * its lease, and a batch whose lease was taken over starting nothing more. Both databases, a fake clock.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { claimLease } from '../src/events/consumers/claim.js';
import { ConsumerRegistry } from '../src/events/consumers/registry.js';
import { RetryLater } from '../src/events/consumers/retry-later.js';
import { ConsumerRunner } from '../src/events/consumers/runner.js';
import type { ConsumerDefinition, Delivery } from '../src/events/consumers/types.js';
import { FakeClock } from '../src/lib/clock.js';
import { forEachDialect, propose, review, type World, world } from './helpers.js';

forEachDialect('consumer lanes', (dialect) => {
  let w: World;
  let clock: FakeClock;
  /** The runners the running test started. */
  const runners: ConsumerRunner[] = [];
  before(async () => {
    clock = new FakeClock();
    w = await world(dialect, { clock });
  });
  // A test's runners end with it. Left running, a consumer holding its lease delivers the next test's events
  // too, and a handler that moves the shared clock (the long batch's) would move it under the next test:
  // a lease that test just handed to another node then expires, and its consumer takes it back.
  afterEach(async () => {
    for (const r of runners.splice(0)) await r.stop();
  });
  after(async () => {
    await w.close();
  });

  const row = (name: string) =>
    w.gw.deps.db.read.selectFrom('event_consumers').selectAll().where('name', '=', name).executeTakeFirstOrThrow();
  const head = async () =>
    Number((await w.gw.deps.db.read.selectFrom('chain_head').select('event_seq').executeTakeFirstOrThrow()).event_seq);
  const leaseMs = () => w.gw.deps.config.events.consumerLeaseMs;
  const runner = async (def: ConsumerDefinition) => {
    const registry = new ConsumerRegistry();
    registry.register(def);
    const r = new ConsumerRunner(w.gw.deps, registry);
    runners.push(r);
    r.start();
    await r.tick();
    return r;
  };
  /**
   * A consumer registered at the head, then stopped while `work` commits its events (a burst waiting for
   * it), then started on a runner of its own: its first pass has the whole burst in one batch.
   */
  const run = async (def: ConsumerDefinition, work: () => Promise<void>) => {
    await (await runner({ ...def, handle: () => undefined })).stop();
    const from = Number((await row(def.name)).cursor);
    await work();
    const top = await head();
    return { runner: await runner(def), from, top };
  };
  const proposeMany = async (n: number, tag: string) => {
    for (let i = 0; i < n; i++) await propose(w, { arguments: { tag, i } });
  };
  /** Each action's delivered seqs, in delivery order. */
  const byAction = (seen: Delivery[]) => {
    const out = new Map<string, number[]>();
    for (const d of seen) out.set(d.event.actionId ?? '', [...(out.get(d.event.actionId ?? '') ?? []), d.event.seq]);
    return out;
  };

  test('with concurrency 8, twelve actions are delivered eight at a time, each action in seq order, every event once, and the cursor reaches the head', async () => {
    const seen: Delivery[] = [];
    let inFlight = 0;
    let most = 0;
    const { from, top } = await run(
      {
        name: 'lanes-8',
        concurrency: 8,
        async handle(d) {
          inFlight += 1;
          most = Math.max(most, inFlight);
          // A platform round trip: the other lanes get to start meanwhile.
          await new Promise((r) => setImmediate(r));
          seen.push(d);
          inFlight -= 1;
        },
      },
      () => proposeMany(12, 'eight'),
    );
    assert.equal(most, 8, 'never more than eight in flight, and eight when there is work for them');
    assert.deepEqual(
      seen.map((d) => d.event.seq).sort((a, b) => a - b),
      Array.from({ length: top - from }, (_, i) => from + 1 + i),
    );
    const lanes = byAction(seen);
    assert.equal(lanes.size, 12);
    for (const [action, seqs] of lanes)
      assert.deepEqual(
        seqs,
        [...seqs].sort((a, b) => a - b),
        `action ${action} in order`,
      );
    assert.equal(Number((await row('lanes-8')).cursor), top);
  });

  test('events committed while a pass is delivering join it: another action starts before the slow delivery ends, the same action waits for it, and the cursor reaches the head once', async () => {
    const seen: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let slowSeq = -1;
    const r = await runner({
      name: 'lanes-take-in',
      concurrency: 4,
      async handle(d) {
        if (slowSeq === -1) {
          slowSeq = d.event.seq;
          await gate; // a platform that takes its time with the first action's message
        }
        seen.push(d.event.seq);
      },
    });
    const from = Number((await row('lanes-take-in')).cursor);
    const first = (await propose(w, { arguments: { tag: 'slow' } })).body.id as string;
    while (slowSeq === -1) await new Promise((res) => setImmediate(res));
    // Committed while the first delivery waits: no tick, only the bus wakes the worker.
    const other = (await propose(w, { arguments: { tag: 'meanwhile' } })).body.id as string;
    const denied = await review(w, first, w.keys.alice, { decision: 'deny', reason: 'not now' });
    assert.equal(denied.status, 200);
    const seqOf = async (actionId: string) =>
      (await w.gw.deps.db.read.selectFrom('events').select('seq').where('action_id', '=', actionId).orderBy('seq').execute()).map((e) =>
        Number(e.seq),
      );
    const otherSeqs = await seqOf(other);
    // Waits (up to ten seconds of real time, so a regression fails rather than hangs) for the bus-woken delivery.
    for (let i = 0; i < 2000 && !otherSeqs.every((s) => seen.includes(s)); i++) await new Promise((res) => setTimeout(res, 5));
    assert.ok(
      otherSeqs.every((s) => seen.includes(s)),
      'the other action was delivered while the first was still waiting',
    );
    const firstSeqs = await seqOf(first);
    assert.ok(!firstSeqs.some((s) => seen.includes(s)), "the first action's later events wait for its slow delivery");
    release();
    await r.tick();
    const top = await head();
    assert.deepEqual(
      [...seen].sort((a, b) => a - b),
      Array.from({ length: top - from }, (_, i) => from + 1 + i),
      'every event once',
    );
    assert.deepEqual(
      seen.filter((s) => firstSeqs.includes(s)),
      firstSeqs,
      'the first action in seq order',
    );
    assert.equal(Number((await row('lanes-take-in')).cursor), top);
  });

  test('a RetryLater is retried no earlier than its wait, nothing else starts meanwhile, the cursor stops before the first event that did not run, and afterwards every event is delivered', async () => {
    const seen: Delivery[] = [];
    let throttle = true;
    const { runner, from, top } = await run(
      {
        name: 'lanes-429',
        concurrency: 4,
        async handle(d) {
          await new Promise((r) => setImmediate(r));
          if (throttle) {
            throttle = false;
            throw new RetryLater('rate limited (retry after 7 s)', 7_000);
          }
          seen.push(d);
        },
      },
      () => proposeMany(6, 'throttled'),
    );
    const failedAt = clock.now(); // the fake clock stood still while the first pass ran
    const retry = await w.gw.deps.db.read
      .selectFrom('event_consumer_retries')
      .selectAll()
      .where('consumer', '=', 'lanes-429')
      .executeTakeFirst();
    assert.equal(Number(retry?.seq), from + 1, 'the first event failed');
    assert.ok(Number(retry?.next_attempt_at) >= failedAt + 7_000, 'its retry comes no earlier than Retry-After');
    const cursor = Number((await row('lanes-429')).cursor);
    assert.ok(cursor > from && cursor < top, `the cursor (${cursor}) stopped short of the head (${top})`);
    const before = seen.length;
    assert.ok(before < top - from - 1, 'the rest of the batch was not sent into the rate limit');

    await clock.advance(6_999);
    await runner.tick();
    assert.equal(seen.length, before, 'nothing starts before the wait is over');
    await clock.advance(1);
    await runner.tick();
    const delivered = new Set(seen.map((d) => d.event.seq));
    assert.deepEqual(
      [...delivered].sort((a, b) => a - b),
      Array.from({ length: top - from }, (_, i) => from + 1 + i),
    );
    // What ran beyond the cursor in the first pass is delivered again, with the same key (handlers dedupe on it).
    const twice = seen.filter((d, i) => seen.findIndex((e) => e.event.seq === d.event.seq) !== i);
    assert.ok(twice.every((d) => d.event.seq > cursor && d.idempotencyKey === `lanes-429:${d.event.seq}`));
    assert.equal(seen.find((d) => d.event.seq === from + 1)?.attempt, 2);
    assert.equal(Number((await row('lanes-429')).cursor), top);
    assert.equal(
      (await w.gw.deps.db.read.selectFrom('event_consumer_retries').selectAll().where('consumer', '=', 'lanes-429').execute()).length,
      0,
    );
  });

  test('a batch that outlasts its lease renews it as it goes: another node never takes the consumer over mid-batch', async () => {
    const seen: Delivery[] = [];
    const takeovers: boolean[] = [];
    const { runner, top } = await run(
      {
        name: 'lanes-long',
        concurrency: 2,
        async handle(d) {
          seen.push(d);
          await clock.advance(Math.round(leaseMs() * 0.3));
          takeovers.push((await claimLease(w.gw.deps, 'lanes-long', 'another-node', leaseMs())).held);
        },
      },
      () => proposeMany(4, 'long'),
    );
    assert.ok(seen.length * 0.3 > 2, 'the batch took more than two leases');
    assert.ok(
      takeovers.every((t) => !t),
      'the other node never got the lease',
    );
    assert.equal(new Set(seen.map((d) => d.event.seq)).size, seen.length, 'every event once');
    assert.equal(Number((await row('lanes-long')).cursor), top);
    assert.equal((await row('lanes-long')).lease_owner, runner.owner);
  });

  test('a batch whose lease was taken over starts nothing more, and records nothing: the new holder has it all', async () => {
    const seen: Delivery[] = [];
    const { from } = await run(
      {
        name: 'lanes-lost',
        concurrency: 1,
        async handle(d) {
          seen.push(d);
          // This node stalls past its lease and another node claims the consumer meanwhile.
          await clock.advance(leaseMs() + 1);
          assert.equal((await claimLease(w.gw.deps, 'lanes-lost', 'another-node', leaseMs())).held, true);
        },
      },
      () => proposeMany(3, 'lost'),
    );
    assert.equal(seen.length, 1, 'nothing started after the lease was lost');
    const after = await row('lanes-lost');
    assert.equal(Number(after.cursor), from);
    assert.equal(after.lease_owner, 'another-node');
  });
});
