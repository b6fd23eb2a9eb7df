/*
 * The Slack channel on two gateways in Socket Mode (no public URL): both hold a Socket Mode connection
 * to the stand-in and run the `slack` consumer; each message is posted once and updated once, whichever
 * node holds the lease; interactions arrive as envelopes, are acknowledged (with the modal's answer), and
 * decide through the same handler as HTTP. The opt-in email match links a Slack user by users.info.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eventually, type TwoNodes, twoNodes } from './cross-node-helpers.js';
import { call, forEachDialect, propose } from './helpers.js';
import { REVIEW_CHANNEL, withSlack } from './slack-helpers.js';
import { APP_TOKEN, SlackStandIn } from './slack-standin.js';

forEachDialect('Slack channel on two gateways, Socket Mode', (dialect) => {
  let nodes: TwoNodes;
  let slack: SlackStandIn;

  before(async () => {
    slack = new SlackStandIn();
    await slack.start();
    slack.emails.set('U0ALICE', 'alice@example.com');
    nodes = await twoNodes(dialect, { config: withSlack(slack, { mode: 'socket', match_email: true }) });
  });
  after(async () => {
    await nodes?.close();
    await slack?.close();
  });

  const tickBoth = () => Promise.all([nodes.a.gw.consumerRunner.tick('slack'), nodes.b.gw.consumerRunner.tick('slack')]);
  const rowsOf = (id: string) =>
    nodes.a.gw.deps.db.read.selectFrom('slack_messages').selectAll().where('action_id', '=', id).orderBy('recipient').execute();

  test('both gateways open a Socket Mode connection with the app-level token', async () => {
    await eventually('two connections', () => slack.socketCount === 2);
    const opens = slack.callsOf('apps.connections.open');
    assert.equal(opens.length, 2);
    assert.ok(opens.every((c) => c.token === APP_TOKEN));
  });

  test('actions proposed on either gateway are posted exactly once each, with both nodes running the consumer', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      ids.push((await propose(i % 2 === 0 ? nodes.a : nodes.b, { arguments: { env: 'staging', i } })).body.id);
      await tickBoth();
    }
    await eventually('every message is posted', async () => (await Promise.all(ids.map(rowsOf))).every((r) => r.length === 1));
    for (let i = 0; i < 3; i++) await tickBoth();
    for (const id of ids) {
      const posts = slack.callsOf('chat.postMessage').filter((c) => JSON.stringify(c.args.blocks).includes(id));
      assert.equal(posts.length, 1, `action ${id}`);
      assert.equal(posts[0]?.args.channel, REVIEW_CHANNEL);
    }
  });

  test('a click over the socket is acknowledged and, with the email match opted in, links the Slack user by users.info and approves as that person', async () => {
    const id = (await propose(nodes.a, { arguments: { env: 'staging', n: 'socket' } })).body.id;
    await tickBoth();
    await eventually('posted', async () => (await rowsOf(id)).length === 1);
    const [row] = await rowsOf(id);
    assert.ok(row);
    const ack = await slack.envelope(slack.click({ user: 'U0ALICE', channel: row.channel, ts: row.ts, actionId: 'cs_approve' }));
    assert.deepEqual(ack, {}, 'acknowledged with an empty payload');
    assert.equal(slack.callsOf('users.info').at(-1)?.args.user, 'U0ALICE');
    const a = (await call(nodes.b, 'GET', `/v1/actions/${id}`, nodes.b.keys.ada)).body;
    assert.equal(a.status, 'approved');
    assert.equal(a.decided_by.label, 'alice@example.com');
    assert.equal(a.reviews[0].channel, 'slack');
    const linked = await nodes.a.gw.deps.db.read.selectFrom('linked_identities').selectAll().where('subject', '=', 'U0ALICE').execute();
    assert.equal(linked.length, 1);
    await tickBoth();
    await eventually('updated', () => slack.callsOf('chat.update').some((c) => c.args.ts === row.ts));
    for (let i = 0; i < 3; i++) await tickBoth();
    assert.equal(slack.callsOf('chat.update').filter((c) => c.args.ts === row.ts).length, 1, 'updated once');
  });

  test('an unmatched Slack user is sent the link instead; the deny modal over the socket answers field errors in the acknowledgement, then denies', async () => {
    const id = (await propose(nodes.b, { arguments: { env: 'staging', n: 'deny' } })).body.id;
    await tickBoth();
    await eventually('posted', async () => (await rowsOf(id)).filter((r) => r.channel === REVIEW_CHANNEL).length === 1);
    const [row] = (await rowsOf(id)).filter((r) => r.channel === REVIEW_CHANNEL);
    assert.ok(row);
    await slack.envelope(slack.click({ user: 'U0NOBODY', channel: row.channel, ts: row.ts, actionId: 'cs_deny' }));
    const told = slack.callsOf('chat.postEphemeral').filter((c) => c.args.user === 'U0NOBODY');
    assert.equal(told.length, 1);
    assert.match(String(told[0]?.args.text), /Link your Slack account/);
    assert.equal(slack.callsOf('views.open').length, 0, 'no form for someone who cannot decide');

    await slack.envelope(slack.click({ user: 'U0ALICE', channel: row.channel, ts: row.ts, actionId: 'cs_deny' }));
    const view = slack.callsOf('views.open').at(-1)?.args.view as Record<string, unknown>;
    assert.ok(view);
    const refused = (await slack.envelope(slack.submit({ user: 'U0ALICE', view, reason: '' }))) as { response_action?: string };
    assert.equal(refused.response_action, 'errors');
    assert.deepEqual(await slack.envelope(slack.submit({ user: 'U0ALICE', view, reason: 'rollback first' })), {});
    const a = (await call(nodes.a, 'GET', `/v1/actions/${id}`, nodes.a.keys.agent)).body;
    assert.equal(a.status, 'denied');
    assert.equal(a.reason, 'rollback first');
  });
});
