import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import pino from 'pino';
import { loadConfig } from '../src/config/load.js';
import { closeDeps, createDeps } from '../src/deps.js';
import { cancelAction } from '../src/domain/actions/cancel-action.js';
import { authenticate } from '../src/domain/identities/authenticate.js';
import type { StoredEvent } from '../src/events/types.js';
import { FakeClock } from '../src/lib/clock.js';
import { childEnv, exits } from './cli-serve-helpers.js';
import { counter, eventually, headSeq, track, twoNodes, waiters } from './cross-node-helpers.js';
import { auditRows, call, forEachDialect, PG_URL, propose, review, runCli, type World, world } from './helpers.js';
import { SseClient } from './sse-client.js';

/**
 * Both nodes run on one fake clock (started at the real time, for the admin CLI's sake) that these tests never move, so a long-poll's wait cannot run out:
 * an answer with the decision is the wake-up, not a re-read after the time-out.
 *
 * PostgreSQL nodes hear each other through NOTIFY; their backstop poll is set far beyond any wait here, so
 * only the notify (or a reconnect's replay) can answer in time. SQLite is one node per file in production;
 * two gateways on one file still see each other, through the poll, which is short there.
 */
/** A guard so a missed wake-up fails the test instead of holding it for ever (not a latency bound). */
const GUARD = { timeout: 60_000 };

const pollFor = (dialect: string) => (dialect === 'postgres' ? 600_000 : 100);

forEachDialect('two gateways on one database', (dialect) => {
  let nodes: Awaited<ReturnType<typeof twoNodes>>;
  let a: World;
  let b: World;
  before(async () => {
    nodes = await twoNodes(dialect, {
      clock: new FakeClock(Date.now()),
      listen: true,
      config: (c) => ({ ...c, events: { ...c.events, pollIntervalMs: pollFor(dialect) } }),
    });
    ({ a, b } = nodes);
  });
  after(() => nodes.close());

  test('an agent long-polling on B is answered with the approval a reviewer made on A, while its wait was still held', GUARD, async () => {
    const created = (await propose(a)).body;
    assert.equal(created.status, 'pending');
    const wait = track(call(b, 'GET', `/v1/actions/${created.id}?wait=20`, b.keys.agent));
    await eventually('the long-poll is held on B', async () => (await waiters(b.gw.deps, 'long_poll')) === 1);
    assert.equal(wait.done, false);
    assert.equal((await review(a, created.id, a.keys.alice, { decision: 'approve' })).status, 200);
    const answer = await wait.result;
    assert.equal(answer.status, 200);
    assert.equal(answer.body.status, 'approved');
  });

  test('an agent waiting on a batch on B is answered once reviewers on A have decided every action in it', GUARD, async () => {
    const calls = [
      { tool: 'deploy', arguments: { env: 'production' } },
      { tool: 'restart', arguments: { service: 'api' } },
    ];
    const { body: batch } = await call(a, 'POST', '/v1/actions/batch', a.keys.agent, { actions: calls });
    assert.deepEqual(
      batch.actions.map((x: { status: string }) => x.status),
      ['pending', 'pending'],
    );
    const wait = track(call(b, 'GET', `/v1/batches/${batch.batch_id}?wait=20`, b.keys.agent));
    await eventually('the batch wait is held on B', async () => (await waiters(b.gw.deps, 'long_poll')) === 1);
    for (const x of batch.actions) await review(a, x.id, a.keys.alice, { decision: 'approve' });
    const answer = (await wait.result).body;
    assert.equal(answer.decided, true);
  });

  test('an event stream on B hears the decision made on A live, with no reconnect', GUARD, async () => {
    const created = (await propose(a)).body;
    const stream = await SseClient.open(b.gw.url, b.keys.alice, `action=${created.id}`);
    try {
      await eventually('the stream is held on B', async () => (await waiters(b.gw.deps, 'sse')) === 1);
      await review(a, created.id, a.keys.alice, { decision: 'deny', reason: 'not today' });
      await stream.waitFor('action.denied', created.id, 20_000);
      const ids = stream.events.map((e) => e.data.event_id);
      assert.deepEqual(
        ids,
        [...ids].sort((x, y) => x - y),
        'events arrive in seq order',
      );
    } finally {
      stream.close();
    }
  });

  test('every event reaches B’s bus once and in seq order while both nodes commit at the same time', async () => {
    const seen: number[] = [];
    const unsubscribe = b.gw.deps.bus.subscribe((e: StoredEvent) => seen.push(e.seq));
    const from = (b.gw.deps.feed.highWater() ?? 0) + 1;
    try {
      const writes: Promise<unknown>[] = [];
      for (let i = 0; i < 60; i++) {
        const node = i % 2 === 0 ? a : b;
        writes.push(propose(node, { annotations: { readOnlyHint: true } }));
        writes.push(propose(node).then((r) => review(node, r.body.id, node.keys.alice, { decision: 'approve' })));
      }
      await Promise.all(writes);
      const head = await headSeq(b.gw.deps);
      await eventually('B has published up to the head', () => (b.gw.deps.feed.highWater() ?? 0) >= head);
      const expected = Array.from({ length: head - from + 1 }, (_, i) => from + i);
      assert.deepEqual(seen.slice(0, expected.length), expected);
      assert.equal(seen.length, expected.length, 'nothing published twice');
    } finally {
      unsubscribe();
    }
  });

  test('a person’s long-poll on B is answered when another process (the admin CLI) cancels the action', GUARD, async () => {
    // The CLI reaches the same database: the data dir's SQLite file, or the schema through search_path.
    const env = a.env.schema
      ? childEnv({ COUNTERSIGN_DATABASE_URL: `${PG_URL}?options=${encodeURIComponent(`-c search_path=${a.env.schema}`)}` })
      : childEnv();
    const admin = (...args: string[]) => runCli([...args, '--data', a.gw.deps.config.dataDir], env);
    const created = (await propose(a)).body;
    const wait = track(call(b, 'GET', `/v1/actions/${created.id}?wait=20`, b.keys.alice));
    await eventually('the long-poll is held on B', async () => (await waiters(b.gw.deps, 'long_poll')) === 1);
    exits(await admin('agents', 'disable', 'deployer'), 0);
    const answer = await wait.result;
    assert.equal(answer.body.status, 'cancelled');
    exits(await admin('agents', 'enable', 'deployer'), 0);
  });
});

forEachDialect('the event feed on one gateway', (dialect) => {
  test('a gateway’s own commits are published with no read of the outbox', async () => {
    // Poll far away: any read here would be one the fast path should have made unnecessary.
    const w = await world(dialect, { config: (c) => ({ ...c, events: { ...c.events, pollIntervalMs: 600_000 } }) });
    try {
      const reads = await counter(w.gw.deps, 'feedReads');
      const published = await counter(w.gw.deps, 'feedPublished', 'local');
      for (let i = 0; i < 20; i++) await propose(w, { annotations: { readOnlyHint: true } });
      await Promise.all(Array.from({ length: 20 }, () => propose(w)));
      assert.ok((await counter(w.gw.deps, 'feedPublished', 'local')) - published >= 80);
      // On PostgreSQL the node's own notifies come back too, and are recognised as its own.
      assert.equal(await counter(w.gw.deps, 'feedReads'), reads);
    } finally {
      await w.close();
    }
  });

  test('a consumer whose lease B holds is woken by a decision made on A', GUARD, async () => {
    const clock = new FakeClock(Date.now());
    const nodes = await twoNodes(dialect, { clock, config: (c) => ({ ...c, events: { ...c.events, pollIntervalMs: pollFor(dialect) } }) });
    try {
      // A lets go of the lease and B takes it; the clock never moves, so no consumer timer runs from here on.
      await nodes.a.gw.consumerRunner.stop();
      await nodes.b.gw.consumerRunner.tick();
      const approvedOn = async (w: World) => {
        let n = 0;
        for (const v of (await w.gw.deps.metrics.decisions.get()).values) if (v.labels.outcome === 'approved') n += v.value;
        return n;
      };
      const id = (await propose(nodes.a)).body.id as string;
      assert.equal((await review(nodes.a, id, nodes.a.keys.alice, { decision: 'approve' })).status, 200);
      await eventually('B’s decision-metrics consumer counted it', async () => (await approvedOn(nodes.b)) === 1);
      assert.equal(await approvedOn(nodes.a), 0);
    } finally {
      await nodes.close();
    }
  });

  test('an own commit after a gap waits for the gap: another process’s event is published first, in seq order', async () => {
    const w = await world(dialect, { config: (c) => ({ ...c, events: { ...c.events, pollIntervalMs: 600_000 } }) });
    // Another process on the same database that never publishes to this gateway (as the admin CLI).
    const other = await createDeps(w.gw.deps.config, {
      logger: pino({ level: 'silent' }),
      ...(w.env.schema ? { schema: w.env.schema } : {}),
    });
    try {
      const seen: { seq: number; type: string }[] = [];
      const unsubscribe = w.gw.deps.bus.subscribe((e: StoredEvent) => seen.push({ seq: e.seq, type: e.type }));
      const before = await headSeq(w.gw.deps);
      const pending = (await propose(w)).body;
      await cancelAction(other, await authenticate(other.db.read, w.keys.agent), pending.id, {});
      const mid = await headSeq(w.gw.deps);
      await propose(w, { annotations: { readOnlyHint: true } });
      const head = await headSeq(w.gw.deps);
      await eventually('the gateway published up to the head', () => (w.gw.deps.feed.highWater() ?? 0) >= head);
      unsubscribe();
      assert.deepEqual(
        seen.map((e) => e.seq),
        Array.from({ length: head - before }, (_, i) => before + 1 + i),
      );
      assert.equal(seen.find((e) => e.seq === mid)?.type, 'action.cancelled');
      if (dialect === 'sqlite') assert.ok((await counter(w.gw.deps, 'feedReads', 'gap')) >= 1, 'the gap was read, not waited out');
    } finally {
      await closeDeps(other);
      await w.close();
    }
  });

  test('B’s scheduler expires an action proposed on A, from A’s event, before its own backstop would have looked', async () => {
    const clock = new FakeClock();
    const nodes = await twoNodes(dialect, {
      clock,
      config: (c) => ({ ...c, review: { defaultExpiryMs: 3000 }, events: { ...c.events, pollIntervalMs: pollFor(dialect) } }),
    });
    try {
      // Only B can expire it; B's scheduler last scheduled itself for start + 5 s (its upper bound on sleep).
      await nodes.a.gw.scheduler.stop();
      const created = (await propose(nodes.a)).body;
      const head = await headSeq(nodes.b.gw.deps);
      await eventually('B has heard of the proposal', () => (nodes.b.gw.deps.feed.highWater() ?? 0) >= head);
      await clock.advance(3500);
      await eventually('B expired it', async () => {
        await clock.advance(0);
        return (await call(nodes.b, 'GET', `/v1/actions/${created.id}`, nodes.b.keys.alice)).body.status === 'expired';
      });
      const expired = (await auditRows(nodes.a, created.id)).filter((r) => r.event === 'action.expired');
      assert.equal(expired.length, 1);
    } finally {
      await nodes.close();
    }
  });
});

test(
  'killing B’s LISTEN connection loses no wake-up: what A committed meanwhile reaches B’s waiter on reconnect [postgres]',
  GUARD,
  async () => {
    const nodes = await twoNodes('postgres', {
      clock: new FakeClock(),
      config: (c) => ({ ...c, events: { ...c.events, pollIntervalMs: 600_000 } }),
    });
    const { a, b } = nodes;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      const created = (await propose(a)).body;
      const wait = track(call(b, 'GET', `/v1/actions/${created.id}?wait=20`, b.keys.agent));
      await eventually('the long-poll is held on B', async () => (await waiters(b.gw.deps, 'long_poll')) === 1);
      const pid = b.gw.deps.feed.listenBackendPid();
      assert.ok(pid !== undefined);
      const row = (await admin.query('select application_name from pg_stat_activity where pid = $1', [pid])).rows[0];
      assert.match(row?.application_name ?? '', /^countersign listen /);
      await admin.query('select pg_terminate_backend($1)', [pid]);
      // Committed while B is not listening: its notify goes nowhere.
      await eventually('B noticed the drop', () => b.gw.deps.feed.listenBackendPid() === undefined);
      assert.equal((await review(a, created.id, a.keys.alice, { decision: 'approve' })).status, 200);
      const answer = await wait.result;
      assert.equal(answer.body.status, 'approved');
      assert.equal(await counter(b.gw.deps, 'listenReconnects'), 1);
      assert.notEqual(b.gw.deps.feed.listenBackendPid(), pid);
    } finally {
      await admin.end();
      await nodes.close();
    }
  },
);

test('the LISTEN connection goes to database.listen_url, or COUNTERSIGN_DATABASE_LISTEN_URL, and by default to database.url', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cs-listen-config-'));
  try {
    writeFileSync(join(dir, 'c.yaml'), 'database:\n  url: postgres://pool/cs\n  listen_url: postgres://primary/cs\n');
    assert.equal(loadConfig({ file: join(dir, 'c.yaml'), env: {}, cwd: dir }).database.listenUrl, 'postgres://primary/cs');
    const env = { COUNTERSIGN_DATABASE_LISTEN_URL: 'postgres://session-pool/cs' };
    assert.equal(loadConfig({ file: join(dir, 'c.yaml'), env, cwd: dir }).database.listenUrl, 'postgres://session-pool/cs');
    assert.equal(loadConfig({ env: {}, cwd: dir }).database.listenUrl, undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
