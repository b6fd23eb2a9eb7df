/*
 * Retention deletes old outbox events in bounded batches, but never one a registered consumer has not
 * passed, one it still retries, or one parked as a dead letter; audit entries are never touched.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../src/config/load.js';
import { actionOf } from '../src/events/types.js';
import { FakeClock } from '../src/lib/clock.js';
import { call, cliEnvFor, forEachDialect, propose, runCli, world } from './helpers.js';

// Short, so advancing the fake clock past it runs few backstop passes.
const RETENTION_MS = 10_000;

forEachDialect('event retention', (dialect) => {
  test('old events go, except those a consumer has not passed or dead-lettered; the audit log stays whole', async () => {
    const clock = new FakeClock();
    const w = await world(dialect, { clock, config: (c) => ({ ...c, events: { ...c.events, retentionMs: RETENTION_MS } }) });
    const db = w.gw.deps.db.read;
    const seqsOf = async (actionId: string) =>
      (await db.selectFrom('events').select('seq').where('action_id', '=', actionId).orderBy('seq').execute()).map((r) => Number(r.seq));
    const eventCount = async () =>
      Number(
        (
          await db
            .selectFrom('events')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    try {
      let refuse = true;
      w.gw.consumers.register({
        name: 'picky',
        types: ['action.created'],
        maxAttempts: 1,
        handle: ({ event }) => {
          if (refuse && actionOf(event)?.arguments.poison === true) throw new Error('cannot handle this one');
        },
      });
      let open: () => void = () => undefined;
      const gate = new Promise<void>((r) => {
        open = r;
      });
      await w.gw.consumerRunner.tick();
      const early = (await propose(w, { arguments: { early: true } })).body.id;
      const poisoned = (await propose(w, { arguments: { poison: true } })).body.id;
      await w.gw.consumerRunner.tick();
      // A consumer stuck in its handler keeps its cursor before `held`.
      w.gw.consumers.register({
        name: 'stuck',
        types: ['action.created'],
        handle: ({ event }) => (actionOf(event)?.arguments.hold === true ? gate : undefined),
      });
      await w.gw.consumerRunner.tick('picky');
      await new Promise((r) => setTimeout(r, 50));
      const held = (await propose(w, { arguments: { hold: true } })).body.id;
      for (let i = 0; i < 100 && (await db.selectFrom('event_dead_letters').selectAll().execute()).length === 0; i++)
        await new Promise((r) => setTimeout(r, 5));
      const auditBefore = (await db.selectFrom('audit_log').select('seq').execute()).length;

      await clock.advance(2 * RETENTION_MS);
      const fresh = (await propose(w, { arguments: { fresh: true } })).body.id;
      assert.ok((await w.gw.retention.tick()) > 0);
      assert.deepEqual(await seqsOf(early), [], 'old and passed by every consumer: deleted');
      assert.ok((await seqsOf(poisoned)).length > 0, 'dead-lettered: kept until replayed');
      assert.ok((await seqsOf(held)).length > 0, 'not passed by a consumer: kept');
      assert.ok((await seqsOf(fresh)).length > 0, 'younger than the retention: kept');

      // The dead letter replayed and delivered, the stuck consumer released: now all old events can go.
      refuse = false;
      const dead = (await call(w, 'GET', '/v1/admin/dead-letters', w.keys.ada)).body.items[0];
      assert.equal((await call(w, 'POST', `/v1/admin/dead-letters/${dead.id}/replay`, w.keys.ada)).status, 200);
      open();
      await w.gw.consumerRunner.tick();
      await w.gw.retention.tick();
      assert.deepEqual(await seqsOf(poisoned), []);
      assert.deepEqual(await seqsOf(held), []);
      assert.ok((await seqsOf(fresh)).length > 0);
      assert.ok((await eventCount()) > 0);
      const auditAfter = (await db.selectFrom('audit_log').select('seq').execute()).length;
      assert.ok(auditAfter >= auditBefore, 'audit entries are never deleted');
      const metrics = await call(w, 'GET', '/metrics');
      assert.match(String(metrics.body), /countersign_events_deleted_total [1-9]/);
    } finally {
      await w.close();
    }
  });

  test('a retired consumer holds retention back until an admin forgets it, which is refused while a node runs it', async () => {
    // Near the real time: the CLI judges the lease by its own (system) clock.
    const clock = new FakeClock(Date.now());
    const w = await world(dialect, { clock, config: (c) => ({ ...c, events: { ...c.events, retentionMs: RETENTION_MS } }) });
    const db = w.gw.deps.db.read;
    try {
      w.gw.consumers.register({
        name: 'retired',
        types: ['action.created'],
        handle: () => {
          throw new Error('the endpoint is gone');
        },
      });
      await w.gw.consumerRunner.tick();
      const id = (await propose(w, { arguments: { old: true } })).body.id;
      await w.gw.consumerRunner.tick();
      await clock.advance(2 * RETENTION_MS);
      await w.gw.retention.tick();
      assert.ok((await db.selectFrom('events').select('seq').where('action_id', '=', id).execute()).length > 0, 'still retried: kept');

      const env = cliEnvFor(w);
      const refused = await runCli(['events', 'forget', 'retired'], env);
      assert.equal(refused.code, 6, refused.stderr);
      assert.match(refused.stderr, /is running on/);

      await w.gw.consumerRunner.stop(); // the operator removes it from the gateways; stopping releases its lease
      const forgot = await runCli(['events', 'forget', 'retired'], env);
      assert.equal(forgot.code, 0, forgot.stderr);
      assert.match(forgot.stdout, /forgot consumer retired .*dropped 1 retries/);
      assert.equal(await db.selectFrom('event_consumers').select('name').where('name', '=', 'retired').executeTakeFirst(), undefined);
      const audit = await db.selectFrom('audit_log').selectAll().where('event', '=', 'event.consumer_forgotten').execute();
      assert.equal(audit.length, 1);
      assert.match(audit[0]?.actor_id ?? '', /^cli:/);

      await w.gw.retention.tick();
      assert.deepEqual(await db.selectFrom('events').select('seq').where('action_id', '=', id).execute(), []);
    } finally {
      await w.close();
    }
  });
});

test('the events section sets retention, attempts, the consumer lease and the backstop poll; by default 7 days, 8 attempts, 30 s and 1 s', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cs-events-config-'));
  try {
    writeFileSync(
      join(dir, 'c.yaml'),
      'events:\n  retention: 2d\n  consumer_max_attempts: 3\n  consumer_lease: 10s\n  poll_interval: 250ms\n',
    );
    assert.deepEqual(loadConfig({ file: join(dir, 'c.yaml'), env: {}, cwd: dir }).events, {
      retentionMs: 2 * 86_400_000,
      consumerMaxAttempts: 3,
      consumerLeaseMs: 10_000,
      pollIntervalMs: 250,
    });
    assert.deepEqual(loadConfig({ env: {}, cwd: dir }).events, {
      retentionMs: 7 * 86_400_000,
      consumerMaxAttempts: 8,
      consumerLeaseMs: 30_000,
      pollIntervalMs: 1000,
    });
    writeFileSync(join(dir, 'fast.yaml'), 'events:\n  poll_interval: 10ms\n');
    assert.throws(() => loadConfig({ file: join(dir, 'fast.yaml'), env: {}, cwd: dir }), /poll_interval must be at least 50ms/);
    writeFileSync(join(dir, 'bad.yaml'), 'events:\n  consumer_max_attempts: 0\n');
    assert.throws(() => loadConfig({ file: join(dir, 'bad.yaml'), env: {}, cwd: dir }), /consumer_max_attempts/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
