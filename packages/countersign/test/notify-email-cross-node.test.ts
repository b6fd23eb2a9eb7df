/*
 * Two gateways on one database, both running the notify consumer: every email is sent exactly once,
 * whichever node holds the consumer's lease.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eventually, type TwoNodes, twoNodes } from './cross-node-helpers.js';
import { forEachDialect, propose } from './helpers.js';
import { startSmtp, type TestSmtp, withEmail } from './smtp-helpers.js';

forEachDialect('email notifications on two gateways', (dialect) => {
  let nodes: TwoNodes;
  let smtp: TestSmtp;

  before(async () => {
    smtp = await startSmtp();
    nodes = await twoNodes(dialect, { config: withEmail(smtp, { decision_links: true }) });
  });
  after(async () => {
    await nodes.close();
    await smtp.close();
  });

  test('actions proposed on either gateway send each approver exactly one email, with both nodes running the consumer', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const node = i % 2 === 0 ? nodes.a : nodes.b;
      ids.push((await propose(node, { arguments: { i } })).body.id);
      await Promise.all([nodes.a.gw.consumerRunner.tick('notify'), nodes.b.gw.consumerRunner.tick('notify')]);
    }
    await eventually('every email is sent', () => smtp.messages.length >= ids.length * 3);
    // Both nodes keep running: nothing more may arrive.
    for (let i = 0; i < 3; i++) await Promise.all([nodes.a.gw.consumerRunner.tick('notify'), nodes.b.gw.consumerRunner.tick('notify')]);
    await new Promise((r) => setTimeout(r, 200));
    for (const id of ids) {
      const to = smtp.messages.filter((m) => m.text.includes(id)).flatMap((m) => m.to);
      assert.deepEqual(to.sort(), ['ada@example.com', 'alice@example.com', 'carol@example.com'], `action ${id}`);
    }
    assert.equal(smtp.messages.length, ids.length * 3);
    const rows = await nodes.a.gw.deps.db.read.selectFrom('notification_deliveries').select(['status']).execute();
    assert.equal(rows.length, ids.length * 3);
    assert.ok(rows.every((r) => r.status === 'sent'));
  });
});
