/*
 * Two gateways on one database, both running every webhook endpoint's consumer: the consumer's lease
 * lets one node deliver at a time, so the receiver gets each event once.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { FakeClock } from '../src/lib/clock.js';
import { type TwoNodes, twoNodes } from './cross-node-helpers.js';
import { call, forEachDialect, propose } from './helpers.js';
import { WebhookReceiver } from './webhook-receiver.js';

forEachDialect('webhooks on two gateways', (dialect) => {
  let nodes: TwoNodes;
  const rx = new WebhookReceiver();

  before(async () => {
    await rx.start();
    nodes = await twoNodes(dialect, { clock: new FakeClock(Date.now()) });
  });
  after(async () => {
    await nodes.close();
    await rx.stop();
  });

  test('two gateways on one database deliver each event to an endpoint once', async () => {
    const { a, b } = nodes;
    const created = await call(a, 'POST', '/v1/admin/webhooks', a.keys.ada, {
      url: rx.url('/both'),
      allow_private: true,
      allow_insecure: true,
      event_types: ['tool.approval_required'],
    });
    assert.equal(created.status, 201);
    rx.route('/both').secrets.push(created.body.secret);
    await Promise.all([a.gw.webhooks.sync(), b.gw.webhooks.sync()]);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const gw = i % 2 === 0 ? a : b;
      ids.push((await propose(gw, { arguments: { n: i } })).body.id);
      await Promise.all([a.gw.consumerRunner.tick(), b.gw.consumerRunner.tick()]);
    }
    await Promise.all([a.gw.consumerRunner.tick(), b.gw.consumerRunner.tick()]);
    const got = rx.route('/both').got;
    assert.deepEqual(got.map((g) => g.payload?.data.action_id).sort(), [...ids].sort(), 'each event once');
    assert.equal(new Set(got.map((g) => g.headers['webhook-id'])).size, got.length);
    assert.ok(
      got.every((g) => g.verifiedWith.length === 1),
      'every request verifies',
    );
  });
});
