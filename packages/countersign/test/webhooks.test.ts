/*
 * Signed outbound webhooks against a real local receiver that verifies every request with
 * standardwebhooks: delivery once per event with the idempotency key as webhook-id, the event filter,
 * retries then a dead letter and its replay (each attempt in the delivery log), 410 Gone, secret
 * rotation, the SSRF guard on a real lookup, and the admin routes. Consumers run on a fake clock that
 * starts at the real time, so the receiver's timestamp tolerance holds.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { FakeClock } from '../src/lib/clock.js';
import type { DeliveryView, WebhookView } from '../src/notify/webhooks/schemas.js';
import { exits } from './cli-serve-helpers.js';
import { auditRows, call, cliEnvFor, forEachDialect, propose, review, runCli, type World, world } from './helpers.js';
import { WebhookReceiver } from './webhook-receiver.js';

forEachDialect('webhooks', (dialect) => {
  let w: World;
  let clock: FakeClock;
  const rx = new WebhookReceiver();

  before(async () => {
    clock = new FakeClock(Date.now());
    w = await world(dialect, { clock, config: (c) => ({ ...c, events: { ...c.events, consumerMaxAttempts: 3 } }) });
    await rx.start();
  });
  after(async () => {
    await w.close();
    await rx.stop();
  });

  /** Adds an endpoint for a receiver path (local, so allow_private and allow_insecure) and teaches the receiver its secret. */
  async function endpoint(path: string, extra: Record<string, unknown> = {}): Promise<{ id: string; secret: string }> {
    const res = await call(w, 'POST', '/v1/admin/webhooks', w.keys.ada, {
      url: rx.url(path),
      allow_private: true,
      allow_insecure: true,
      ...extra,
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    rx.route(path).secrets.push(res.body.secret);
    await w.gw.webhooks.sync();
    return { id: res.body.id, secret: res.body.secret };
  }
  const deliver = () => w.gw.consumerRunner.tick();
  const deliveries = async (id: string) =>
    (await call<{ items: DeliveryView[] }>(w, 'GET', `/v1/admin/webhooks/${id}/deliveries`, w.keys.ada)).body.items;

  test('an admin adds an endpoint: the secret is shown once, never stored in plain text, and the addition is audited', async () => {
    const { id, secret } = await endpoint('/created', { event_types: ['action.approved'], description: 'ops' });
    assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    const row = await w.gw.deps.db.read.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const raw = JSON.stringify(row);
    assert.ok(!raw.includes(secret) && !raw.includes(secret.slice('whsec_'.length)), 'no secret in the row');
    assert.match(row.secret_enc, /^v1\./);
    const listed = await call<{ items: WebhookView[] }>(w, 'GET', '/v1/admin/webhooks', w.keys.ada);
    assert.equal(listed.status, 200);
    const view = listed.body.items.find((e) => e.id === id);
    assert.deepEqual(view?.event_types, ['action.approved']);
    assert.equal(view?.consumer, `webhook-${id}`);
    assert.ok(!JSON.stringify(listed.body).includes(secret.slice(6)), 'no secret in the list');
    const audit = (await auditRows(w)).find((r) => r.event === 'webhook.created' && r.data.includes(id));
    assert.ok(audit, 'audited');
    assert.ok(!audit.data.includes(secret.slice(6)), 'no secret in the audit log');
  });

  test('an event is delivered once, signed and verifiable, with the idempotency key as webhook-id; the filter holds', async () => {
    const { id } = await endpoint('/once', { event_types: ['tool.approval_required', 'action.approved'] });
    const actionId = (await propose(w, { arguments: { hook: 'once' } })).body.id;
    await deliver();
    await deliver();
    const got = rx.route('/once').got;
    assert.equal(got.length, 1, 'action.created is filtered out; the approval request sent once');
    const [first] = got;
    assert.deepEqual(first?.verifiedWith, [0]);
    assert.equal(first?.payload?.type, 'tool.approval_required');
    assert.equal(first?.payload?.data.action?.id, actionId);
    assert.equal(first?.payload?.data.action_id, actionId);
    assert.match(first?.payload?.timestamp ?? '', /^\d{4}-\d\d-\d\dT/);
    const seq = first?.payload?.data.event_id;
    assert.equal(first?.headers['webhook-id'], `webhook-${id}:${seq}`);
    assert.equal(first?.headers['content-type'], 'application/json');
    assert.equal((await review(w, actionId, w.keys.alice, { decision: 'approve' })).status, 200);
    await deliver();
    assert.deepEqual(
      rx.route('/once').got.map((g) => g.payload?.type),
      ['tool.approval_required', 'action.approved'],
    );
    const log = await deliveries(id);
    assert.equal(log.length, 2);
    assert.ok(log.every((d) => d.ok && d.status_code === 200 && d.attempt === 1));
  });

  test('a receiver answering 500 and 429 is retried with back-off, then dead-lettered; a replay delivers and the log shows every attempt', async () => {
    const { id } = await endpoint('/flaky', { event_types: ['tool.approval_required'] });
    rx.route('/flaky').answers.push(500, 429, 503);
    await propose(w, { arguments: { hook: 'flaky' } });
    await deliver();
    for (let i = 0; i < 2; i++) {
      await clock.advance(2 ** i * 1000);
      await deliver();
    }
    const got = rx.route('/flaky').got;
    assert.deepEqual(
      got.map((g) => g.status),
      [500, 429, 503],
    );
    assert.equal(new Set(got.map((g) => g.headers['webhook-id'])).size, 1, 'every attempt carries the same webhook-id');
    assert.ok(got.every((g) => g.verifiedWith.length === 1));
    const dead = await call(w, 'GET', `/v1/admin/dead-letters?consumer=webhook-${id}`, w.keys.ada);
    assert.equal(dead.body.items.length, 1);
    assert.match(dead.body.items[0].last_error, /answered 503/);
    assert.equal((await call(w, 'POST', `/v1/admin/dead-letters/${dead.body.items[0].id}/replay`, w.keys.ada)).status, 200);
    await deliver();
    assert.equal(got.length, 4);
    assert.equal(got[3]?.status, 200);
    const log = await deliveries(id);
    assert.deepEqual(log.map((d) => [d.attempt, d.status_code, d.ok]).reverse(), [
      [1, 500, false],
      [2, 429, false],
      [3, 503, false],
      [1, 200, true],
    ]);
    const metrics = await call(w, 'GET', '/metrics');
    assert.match(metrics.body, /countersign_webhook_deliveries_total\{result="retried"\} [1-9]/);
    assert.match(metrics.body, /countersign_webhook_deliveries_total\{result="sent"\} [1-9]/);
  });

  test("a receiver's 429 with Retry-After: 30 is retried no sooner than 30 s later by the gateway's clock, and then delivered once", async () => {
    const { id } = await endpoint('/throttled', { event_types: ['tool.approval_required'] });
    const route = rx.route('/throttled');
    route.answers.push(429);
    route.retryAfter = '30';
    await propose(w, { arguments: { hook: 'throttled' } });
    const throttledAt = clock.now();
    await deliver();
    assert.deepEqual(
      route.got.map((g) => g.status),
      [429],
    );
    const retry = await w.gw.deps.db.read
      .selectFrom('event_consumer_retries')
      .selectAll()
      .where('consumer', '=', `webhook-${id}`)
      .execute();
    assert.equal(retry.length, 1);
    assert.ok(
      Number(retry[0]?.next_attempt_at) >= throttledAt + 30_000,
      'the retry is scheduled after Retry-After, not after the 1 s back-off',
    );
    await clock.advance(29_999);
    await deliver();
    assert.equal(route.got.length, 1, 'nothing sent to the receiver before Retry-After is over');
    await clock.advance(1);
    await deliver();
    assert.deepEqual(
      route.got.map((g) => g.status),
      [429, 200],
    );
    assert.equal(new Set(route.got.map((g) => g.headers['webhook-id'])).size, 1, 'the same message, the same webhook-id');
  });

  test('a receiver answering 410 Gone disables the endpoint, audited, and nothing more is sent to it', async () => {
    const { id } = await endpoint('/gone', { event_types: ['tool.approval_required'] });
    rx.route('/gone').answers.push(410);
    await propose(w, { arguments: { hook: 'gone' } });
    await deliver();
    const view = (await call<{ items: WebhookView[] }>(w, 'GET', '/v1/admin/webhooks', w.keys.ada)).body.items.find((e) => e.id === id);
    assert.equal(view?.enabled, false);
    assert.match(view?.disabled_reason ?? '', /410 Gone/);
    const audit = (await auditRows(w)).find((r) => r.event === 'webhook.disabled' && r.data.includes(id));
    assert.equal(audit?.actor_type, 'system');
    await propose(w, { arguments: { hook: 'gone-again' } });
    await deliver();
    assert.equal(rx.route('/gone').got.length, 1);
    const retries = await w.gw.deps.db.read
      .selectFrom('event_consumer_retries')
      .selectAll()
      .where('consumer', '=', `webhook-${id}`)
      .execute();
    assert.equal(retries.length, 0, '410 is not retried');
  });

  test('after a rotation both secrets verify during the overlap, and only the new one after it', async () => {
    const { id, secret: old } = await endpoint('/rotate', { event_types: ['tool.approval_required'] });
    const rotated = await call(w, 'POST', `/v1/admin/webhooks/${id}/rotate-secret`, w.keys.ada, { overlap: '2s' });
    assert.equal(rotated.status, 200);
    assert.notEqual(rotated.body.secret, old);
    assert.ok(rotated.body.previous_secret_valid_until);
    rx.route('/rotate').secrets.push(rotated.body.secret);
    await propose(w, { arguments: { hook: 'rotate-1' } });
    await deliver();
    assert.deepEqual(rx.route('/rotate').got[0]?.verifiedWith, [0, 1], 'old and new both verify');
    assert.equal(rx.route('/rotate').got[0]?.headers['webhook-signature']?.split(' ').length, 2);
    await clock.advance(2_001);
    await propose(w, { arguments: { hook: 'rotate-2' } });
    await deliver();
    assert.deepEqual(rx.route('/rotate').got[1]?.verifiedWith, [1], 'only the new one');
    const audit = (await auditRows(w)).find((r) => r.event === 'webhook.secret_rotated' && r.data.includes(id));
    assert.ok(audit && !audit.data.includes(rotated.body.secret.slice(6)));
    const byDefault = await call(w, 'POST', `/v1/admin/webhooks/${id}/rotate-secret`, w.keys.ada);
    const until = Date.parse(byDefault.body.previous_secret_valid_until) - clock.now();
    assert.ok(until > 23 * 3600_000 && until <= 24 * 3600_000, 'the default overlap is 24 h');
  });

  test('a host name that resolves to a loopback address is refused without allow_private, and the refusal is logged', async () => {
    const res = await call(w, 'POST', '/v1/admin/webhooks', w.keys.ada, {
      url: `http://localhost:${rx.port}/private`,
      allow_insecure: true,
      event_types: ['tool.approval_required'],
    });
    assert.equal(res.status, 201);
    await w.gw.webhooks.sync();
    await propose(w, { arguments: { hook: 'private' } });
    await deliver();
    assert.equal(rx.route('/private').got.length, 0, 'nothing reached the receiver');
    const [entry] = await deliveries(res.body.id);
    assert.equal(entry?.status_code, null);
    assert.match(entry?.error ?? '', /localhost resolves to .*loopback.*refused/);
  });

  test('the test message reaches the receiver signed, and is audited', async () => {
    const { id } = await endpoint('/ping');
    const res = await call(w, 'POST', `/v1/admin/webhooks/${id}/test`, w.keys.ada);
    assert.equal(res.status, 200);
    assert.equal(res.body.ok, true);
    assert.equal(res.body.seq, null);
    const [got] = rx.route('/ping').got;
    assert.equal(got?.payload?.type, 'webhook.test');
    assert.deepEqual(got?.verifiedWith, [0]);
    assert.ok((await auditRows(w)).some((r) => r.event === 'webhook.tested' && r.data.includes(id)));
  });

  test('disable and enable are audited, and doing either twice is a conflict', async () => {
    const { id } = await endpoint('/toggle');
    const off = await call(w, 'POST', `/v1/admin/webhooks/${id}/disable`, w.keys.ada, { reason: 'maintenance' });
    assert.equal(off.status, 200);
    assert.equal(off.body.enabled, false);
    assert.equal((await call(w, 'POST', `/v1/admin/webhooks/${id}/disable`, w.keys.ada)).status, 409);
    assert.equal((await call(w, 'POST', `/v1/admin/webhooks/${id}/test`, w.keys.ada)).status, 409);
    const on = await call(w, 'POST', `/v1/admin/webhooks/${id}/enable`, w.keys.ada);
    assert.equal(on.status, 200);
    assert.equal(on.body.enabled, true);
    assert.equal((await call(w, 'POST', `/v1/admin/webhooks/${id}/enable`, w.keys.ada)).status, 409);
    const events = (await auditRows(w)).filter((r) => r.data.includes(id)).map((r) => r.event);
    assert.ok(events.includes('webhook.disabled') && events.includes('webhook.enabled'));
  });

  test('reviewers, viewers and agents are refused every webhook route', async () => {
    const { id } = await endpoint('/refused');
    for (const key of [w.keys.alice, w.keys.victor, w.keys.agent]) {
      assert.equal((await call(w, 'GET', '/v1/admin/webhooks', key)).status, 403);
      assert.equal((await call(w, 'POST', '/v1/admin/webhooks', key, { url: 'https://example.com/' })).status, 403);
      assert.equal((await call(w, 'POST', `/v1/admin/webhooks/${id}/rotate-secret`, key)).status, 403);
      assert.equal((await call(w, 'GET', `/v1/admin/webhooks/${id}/deliveries`, key)).status, 403);
    }
    assert.equal((await call(w, 'GET', '/v1/admin/webhooks')).status, 401);
  });

  test('bad input is a 400 and an unknown endpoint a 404, never a 500', async () => {
    const bad: unknown[] = [
      { url: 'http://example.com/' },
      { url: 'ftp://example.com/' },
      { url: 'not a url' },
      { url: 'https://user:pw@example.com/' },
      { url: 'https://example.com/', event_types: ['no.such.event'] },
      { url: 'https://example.com/', extra: true },
      { url: 'https://example.com/', allow_private: 'yes' },
      {},
      null,
      [],
    ];
    for (const body of bad) {
      const res = await call(w, 'POST', '/v1/admin/webhooks', w.keys.ada, body);
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
    }
    const { id } = await endpoint('/bad');
    for (const body of [{ overlap: 'forever' }, { overlap: '30d' }, { other: 1 }]) {
      assert.equal((await call(w, 'POST', `/v1/admin/webhooks/${id}/rotate-secret`, w.keys.ada, body)).status, 400);
    }
    assert.equal((await call(w, 'GET', `/v1/admin/webhooks/${id}/deliveries?limit=0`, w.keys.ada)).status, 400);
    assert.equal((await call(w, 'GET', `/v1/admin/webhooks/${id}/deliveries?cursor=x`, w.keys.ada)).status, 400);
    assert.equal((await call(w, 'POST', '/v1/admin/webhooks/nope/disable', w.keys.ada)).status, 404);
    assert.equal((await call(w, 'POST', '/v1/admin/webhooks/0190a000-0000-7000-8000-000000000000/test', w.keys.ada)).status, 404);
  });

  test('the CLI adds, lists, rotates, disables and enables endpoints and shows deliveries; its secret signs what the gateway sends', async () => {
    const env = cliEnvFor(w);
    const added = exits(await runCli(['webhooks', 'add', rx.url('/cli'), '--allow-private', '--allow-insecure', '--json'], env), 0);
    const created = JSON.parse(added.stdout);
    assert.match(created.secret, /^whsec_/);
    rx.route('/cli').secrets.push(created.secret);
    const tested = await call(w, 'POST', `/v1/admin/webhooks/${created.id}/test`, w.keys.ada);
    assert.equal(tested.body.ok, true);
    assert.deepEqual(rx.route('/cli').got[0]?.verifiedWith, [0], 'the key file is shared by the CLI and the gateway');
    assert.match(
      exits(await runCli(['webhooks', 'ls'], env), 0).stdout,
      new RegExp(`${created.id}\\s+http://127\\.0\\.0\\.1:\\d+/cli\\s+all\\s+enabled`),
    );
    const rotated = exits(await runCli(['webhooks', 'rotate', created.id, '--overlap', '1h'], env), 0);
    assert.match(rotated.stdout, /secret: whsec_/);
    assert.match(exits(await runCli(['webhooks', 'disable', created.id, '--reason', 'moving'], env), 0).stdout, /disabled/);
    assert.match(exits(await runCli(['webhooks', 'disable', created.id], env), 6).stderr, /already disabled/);
    exits(await runCli(['webhooks', 'enable', created.id], env), 0);
    const log = JSON.parse(exits(await runCli(['webhooks', 'deliveries', created.id, '--json'], env), 0).stdout);
    assert.equal(log.items.length, 1);
    assert.equal(log.items[0].event_type, 'webhook.test');
    const events = (await auditRows(w)).filter((r) => r.data.includes(created.id)).map((r) => r.event);
    assert.deepEqual(events, ['webhook.created', 'webhook.tested', 'webhook.secret_rotated', 'webhook.disabled', 'webhook.enabled']);
  });

  test('delivery log rows older than the events retention are deleted, newer ones kept', async () => {
    const { id } = await endpoint('/pruned');
    assert.equal((await call(w, 'POST', `/v1/admin/webhooks/${id}/test`, w.keys.ada)).status, 200);
    const [recent] = await deliveries(id);
    // A row written a retention period (and a second) ago, as a gateway running then would have.
    const old = {
      ...(await w.gw.deps.db.read
        .selectFrom('webhook_deliveries')
        .selectAll()
        .where('id', '=', recent?.id ?? '')
        .executeTakeFirstOrThrow()),
    };
    await w.gw.deps.committer.run(async (tx) => {
      await tx.db
        .insertInto('webhook_deliveries')
        .values({ ...old, id: '0190a000-0000-7000-8000-000000000001', at: clock.now() - w.gw.deps.config.events.retentionMs - 1_000 })
        .execute();
    });
    assert.equal((await deliveries(id)).length, 2);
    assert.equal(await w.gw.webhooks.prune(), 1);
    assert.deepEqual(
      (await deliveries(id)).map((d) => d.id),
      [recent?.id],
      'the recent delivery stays',
    );
  });
});
