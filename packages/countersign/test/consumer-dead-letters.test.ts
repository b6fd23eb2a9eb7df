/*
 * A consumer whose handler throws: retried with back-off on the injected clock, dead-lettered after its
 * attempts (audited), listed and replayed by an admin over HTTP and on the CLI (audited, once per entry),
 * then delivered again. Other callers are refused.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Delivery } from '../src/events/consumers/types.js';
import { FakeClock } from '../src/lib/clock.js';
import { exits } from './cli-serve-helpers.js';
import { auditRows, call, cliEnvFor, forEachDialect, propose, runCli, type World, world } from './helpers.js';

forEachDialect('dead letters', (dialect) => {
  let w: World;
  let clock: FakeClock;
  const deliveries: Delivery[] = [];
  let failuresLeft = 3;
  let actionId = '';

  before(async () => {
    clock = new FakeClock();
    w = await world(dialect, { clock });
    w.gw.consumers.register({
      name: 'flaky',
      types: ['action.created'],
      maxAttempts: 3,
      handle(d) {
        deliveries.push(d);
        if (failuresLeft > 0) {
          failuresLeft -= 1;
          throw new Error(`endpoint answered 503 (${failuresLeft} more)`);
        }
      },
    });
    await w.gw.consumerRunner.tick('flaky');
  });
  after(async () => {
    await w.close();
  });

  const retry = () => w.gw.deps.db.read.selectFrom('event_consumer_retries').selectAll().where('consumer', '=', 'flaky').executeTakeFirst();

  test('a handler that throws is retried with growing back-off, then dead-lettered after its attempts, and the dead letter is audited', async () => {
    actionId = (await propose(w, { arguments: { flaky: true } })).body.id;
    await w.gw.consumerRunner.tick('flaky');
    assert.equal(deliveries.length, 1);
    const first = await retry();
    assert.equal(first?.attempts, 1);
    const wait1 = Number(first?.next_attempt_at) - clock.now();
    assert.ok(wait1 >= 500 && wait1 <= 1000, `first retry ${wait1} ms later`);

    await clock.advance(wait1 - 1);
    await w.gw.consumerRunner.tick('flaky');
    assert.equal(deliveries.length, 1, 'not before its time');
    await clock.advance(1);
    await w.gw.consumerRunner.tick('flaky');
    assert.equal(deliveries.length, 2);
    const second = await retry();
    assert.equal(second?.attempts, 2);
    const wait2 = Number(second?.next_attempt_at) - clock.now();
    assert.ok(wait2 >= 1000 && wait2 <= 2000, `second retry ${wait2} ms later`);

    await clock.advance(wait2);
    await w.gw.consumerRunner.tick('flaky');
    assert.equal(deliveries.length, 3);
    assert.equal(await retry(), undefined, 'no longer retried');
    assert.deepEqual(
      deliveries.map((d) => d.attempt),
      [1, 2, 3],
    );
    assert.equal(new Set(deliveries.map((d) => d.idempotencyKey)).size, 1, 'one idempotency key for every attempt');

    const dead = await w.gw.deps.db.read.selectFrom('event_dead_letters').selectAll().execute();
    assert.equal(dead.length, 1);
    assert.equal(dead[0]?.attempts, 3);
    assert.equal(dead[0]?.event_type, 'action.created');
    assert.match(dead[0]?.last_error ?? '', /503 \(0 more\)/);
    const audit = (await auditRows(w, actionId)).filter((r) => r.event === 'event.dead_lettered');
    assert.equal(audit.length, 1);
    assert.equal(JSON.parse(audit[0]?.data ?? '{}').dead_letter_id, dead[0]?.id);
    // Later events still flow: one bad event never holds the cursor.
    const later = (await propose(w, { arguments: { later: true } })).body.id;
    await w.gw.consumerRunner.tick('flaky');
    assert.equal(deliveries.at(-1)?.event.actionId, later);
  });

  test('only an admin lists consumers and dead letters or replays one; reviewers, viewers and agents are refused', async () => {
    const list = await call(w, 'GET', '/v1/admin/dead-letters?consumer=flaky', w.keys.ada);
    assert.equal(list.status, 200);
    assert.equal(list.body.items.length, 1);
    const id = list.body.items[0].id;
    for (const key of [w.keys.alice, w.keys.victor, w.keys.agent]) {
      assert.equal((await call(w, 'GET', '/v1/admin/dead-letters', key)).status, 403);
      assert.equal((await call(w, 'GET', '/v1/admin/consumers', key)).status, 403);
      assert.equal((await call(w, 'POST', `/v1/admin/dead-letters/${id}/replay`, key)).status, 403);
    }
    assert.equal((await call(w, 'POST', `/v1/admin/dead-letters/${id}/replay`)).status, 401);
    const consumers = await call(w, 'GET', '/v1/admin/consumers', w.keys.ada);
    assert.equal(consumers.status, 200);
    const flaky = consumers.body.items.find((c: { name: string }) => c.name === 'flaky');
    assert.equal(flaky.dead_letters, 1);
    assert.equal(flaky.lease_owner, w.gw.consumerRunner.owner);
    assert.ok(consumers.body.items.some((c: { name: string }) => c.name === 'decision-metrics'));
  });

  test('the CLI lists the dead letter; an admin replays it over HTTP, it is delivered again and succeeds, and a second replay is a conflict', async () => {
    const env = cliEnvFor(w);
    const listed = exits(await runCli(['events', 'dead-letters', '--consumer', 'flaky', '--json'], env), 0);
    const page = JSON.parse(listed.stdout);
    assert.equal(page.items.length, 1);
    const id = page.items[0].id as string;
    const table = exits(await runCli(['events', 'consumers'], env), 0);
    assert.match(table.stdout, /^flaky\s+\d+\s+\d+\s+\d+\s+\d+\s+0\s+1\s/m);

    const before = deliveries.length;
    const replayed = await call(w, 'POST', `/v1/admin/dead-letters/${id}/replay`, w.keys.ada);
    assert.equal(replayed.status, 200);
    assert.equal(replayed.body.replayed_by, 'ada@example.com');
    await w.gw.consumerRunner.tick('flaky');
    assert.equal(deliveries.length, before + 1);
    assert.equal(deliveries.at(-1)?.event.actionId, actionId);
    assert.equal(deliveries.at(-1)?.idempotencyKey, deliveries[0]?.idempotencyKey);
    assert.equal(await retry(), undefined, 'delivered: nothing left to retry');

    const audit = (await auditRows(w, actionId)).filter((r) => r.event === 'event.dead_letter_replayed');
    assert.equal(audit.length, 1);
    assert.equal(audit[0]?.actor_type, 'user');

    const again = await call(w, 'POST', `/v1/admin/dead-letters/${id}/replay`, w.keys.ada);
    assert.equal(again.status, 409);
    const cli = exits(await runCli(['events', 'replay', id], env), 6);
    assert.match(cli.stderr, /already replayed/);
    assert.equal((await call(w, 'GET', '/v1/admin/dead-letters?consumer=flaky', w.keys.ada)).body.items.length, 0);
    assert.equal((await call(w, 'GET', '/v1/admin/dead-letters?consumer=flaky&all=true', w.keys.ada)).body.items.length, 1);
  });

  test('the CLI replays a dead letter itself, audited as the admin at the terminal', async () => {
    let refusals = 1;
    w.gw.consumers.register({
      name: 'one-shot',
      types: ['action.created'],
      maxAttempts: 1,
      handle() {
        if (refusals > 0) {
          refusals -= 1;
          throw new Error('refused');
        }
      },
    });
    await w.gw.consumerRunner.tick('one-shot');
    const id2 = (await propose(w, { arguments: { oneShot: true } })).body.id;
    await w.gw.consumerRunner.tick('one-shot');
    const env = cliEnvFor(w);
    const page = JSON.parse(exits(await runCli(['events', 'dead-letters', '--consumer', 'one-shot', '--json'], env), 0).stdout);
    assert.equal(page.items.length, 1);
    const r = exits(await runCli(['events', 'replay', page.items[0].id], env), 0);
    assert.match(r.stdout, /replayed .* goes to one-shot again/);
    const audit = (await auditRows(w, id2)).filter((row) => row.event === 'event.dead_letter_replayed');
    assert.equal(audit.length, 1);
    assert.equal(audit[0]?.actor_type, 'admin');
    assert.match(audit[0]?.actor_id ?? '', /^cli:/);
    await w.gw.consumerRunner.tick('one-shot');
    const left = await w.gw.deps.db.read.selectFrom('event_consumer_retries').selectAll().where('consumer', '=', 'one-shot').execute();
    assert.equal(left.length, 0);
  });
});
