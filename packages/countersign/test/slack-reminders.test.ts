/*
 * Reminders and escalations in Slack, on two gateways sharing one database and a fake clock: the request
 * already posted is updated in place (chat.update on its ts) and the reminder or escalation is a reply in
 * its thread (thread_ts naming that message), mentioning the linked people asked; never a second request.
 * An escalation that asks someone new posts them the request by DM. Each reminder time is one reply per
 * message however many nodes run the consumer; a decision afterwards still updates every message; a
 * failed reply is retried alone (the update that succeeded is not made again).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { FakeClock } from '../src/lib/clock.js';
import { eventually, type TwoNodes, twoNodes } from './cross-node-helpers.js';
import { forEachDialect, propose, review, type World, withPolicy } from './helpers.js';
import { MIN, remindingPolicy } from './reminding-policy.js';
import { REVIEW_CHANNEL, withSlack } from './slack-helpers.js';
import { SlackStandIn, type SlackStandIn as StandIn, TEAM } from './slack-standin.js';

/** Alice decides; after 30 minutes Carol is asked too; then every 30 minutes both are reminded (twice). */
const REMINDING = remindingPolicy('{ users: [alice@example.com] }', '{ users: [carol@example.com] }');
const SLACK_USER = { 'alice@example.com': 'U0ALICE', 'carol@example.com': 'U0CAROL' } as const;

async function linkSlack(w: World, email: keyof typeof SLACK_USER): Promise<void> {
  const user = await w.gw.deps.db.read.selectFrom('users').select('id').where('email', '=', email).executeTakeFirstOrThrow();
  await w.gw.deps.db.write
    .insertInto('linked_identities')
    .values({
      issuer: `slack:${TEAM}`,
      subject: SLACK_USER[email],
      user_id: user.id,
      email,
      created_at: w.gw.deps.clock.now(),
      last_sign_in_at: null,
    })
    .execute();
}

forEachDialect('Slack reminders and escalations in threads', (dialect) => {
  let nodes: TwoNodes;
  let slack: StandIn;
  let clock: FakeClock;

  before(async () => {
    slack = new SlackStandIn();
    await slack.start();
    clock = new FakeClock();
    nodes = await twoNodes(dialect, {
      clock,
      config: (c) => withSlack(slack, {}, { events: { ...c.events, consumerMaxAttempts: 4 } })(withPolicy(REMINDING)(c)),
    });
    await linkSlack(nodes.a, 'alice@example.com');
    await linkSlack(nodes.a, 'carol@example.com');
  });
  after(async () => {
    await nodes?.close();
    await slack?.close();
  });

  const tickBoth = async () => {
    for (let i = 0; i < 3; i++) await Promise.all([nodes.a.gw.consumerRunner.tick('slack'), nodes.b.gw.consumerRunner.tick('slack')]);
  };
  const later = async (minutes: number) => {
    await clock.advance(minutes * MIN);
    // Twice on each node, as a sweep may leave the next firing to the following tick.
    for (let i = 0; i < 2; i++) await Promise.all([nodes.a.gw.scheduler.tick(), nodes.b.gw.scheduler.tick()]);
    await tickBoth();
  };
  const messagesOf = (id: string) =>
    nodes.a.gw.deps.db.read
      .selectFrom('slack_messages')
      .selectAll()
      .where('action_id', '=', id)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
  const requestsAbout = (id: string) => slack.topLevel().filter((m) => JSON.stringify(m.blocks).includes(id));
  const updatesOf = (ts: string) => slack.callsOf('chat.update').filter((c) => c.ok && c.args.ts === ts);
  const dmOf = (user: string) => `D${user.slice(1)}`;

  test('an escalation updates the channel message in place and replies in its thread mentioning the person now asked, and DMs that person the request; each reminder is one reply per message, mentioning the people asked; a decision then updates every message', async () => {
    const id = (await propose(nodes.a, { arguments: { env: 'staging', n: 'remind' } })).body.id as string;
    await tickBoth();
    await eventually('posted to the channel and to Alice', async () => (await messagesOf(id)).length === 2);
    const first = await messagesOf(id);
    assert.deepEqual(first.map((m) => m.channel).sort(), [REVIEW_CHANNEL, dmOf('U0ALICE')].sort());

    await later(30); // the escalation: Carol is asked too
    const afterEscalation = await messagesOf(id);
    assert.equal(afterEscalation.length, 3, 'Carol got the request by DM');
    assert.equal(afterEscalation[2]?.channel, dmOf('U0CAROL'));
    assert.equal(requestsAbout(id).length, 3, 'no request posted again where it was posted');
    const channel = first.find((m) => m.channel === REVIEW_CHANNEL);
    const aliceDm = first.find((m) => m.channel === dmOf('U0ALICE'));
    assert.ok(channel && aliceDm);
    assert.equal(updatesOf(channel.ts).length, 1, 'the channel message updated in place');
    const channelReplies = slack.repliesTo(channel.channel, channel.ts);
    assert.equal(channelReplies.length, 1, 'one escalation reply in its thread');
    assert.match(channelReplies[0]?.text ?? '', /^Escalated \(level 1\): more people are asked to decide\./);
    assert.match(channelReplies[0]?.text ?? '', /<@U0CAROL>/, 'mentioning the person now asked');
    assert.equal(
      updatesOf(aliceDm.ts).length + slack.repliesTo(aliceDm.channel, aliceDm.ts).length,
      0,
      'the escalation does not ask Alice again',
    );
    assert.ok(
      slack.callsOf('chat.postMessage').every((c) => c.args.reply_broadcast === undefined || String(c.args.reply_broadcast) === 'false'),
      'never broadcast to the channel',
    );

    await later(30); // the first reminder: everyone asked
    await tickBoth();
    const all = await messagesOf(id);
    for (const m of all) {
      const reminders = slack.repliesTo(m.channel, m.ts).filter((r) => r.text.startsWith('Reminder:'));
      assert.equal(reminders.length, 1, `${m.channel}: one reminder reply, across both gateways`);
      if (m.channel !== REVIEW_CHANNEL)
        assert.ok(reminders[0]?.text.endsWith(`<@U${m.channel.slice(1)}>`), 'a DM reply mentions its person');
    }
    const channelReminder = slack.repliesTo(REVIEW_CHANNEL, channel.ts).find((r) => r.text.startsWith('Reminder:'));
    assert.match(channelReminder?.text ?? '', /<@U0ALICE> <@U0CAROL>|<@U0CAROL> <@U0ALICE>/);
    assert.equal(requestsAbout(id).length, 3, 'still no request posted again');
    const sent = await nodes.a.gw.deps.db.read
      .selectFrom('notification_deliveries')
      .selectAll()
      .where('action_id', '=', id)
      .where('event_type', '=', 'action.reminder')
      .execute();
    assert.deepEqual(
      sent.map((r) => r.recipient.split(' ')[0]).sort(),
      ['thread', 'thread', 'thread', 'update', 'update', 'update'],
      'a delivery record for each update and each reply',
    );
    assert.ok(sent.every((r) => r.status === 'sent' && Number(r.attempts) === 1));

    const denied = await review(nodes.b, id, nodes.b.keys.alice, { decision: 'deny', reason: 'not today' });
    assert.equal(denied.status, 200);
    await tickBoth();
    for (const m of all) {
      const last = updatesOf(m.ts).at(-1);
      assert.match(JSON.stringify(last?.args.blocks), /Denied/, `${m.channel}: shows the decision`);
      assert.doesNotMatch(JSON.stringify(slack.messages.get(`${m.channel}/${m.ts}`)?.blocks), /cs_approve/, 'no buttons left');
    }
  });

  test('a reminder reply Slack refuses (500) is retried alone: the message is updated once, and the reply sent once on the retry', async () => {
    const id = (await propose(nodes.a, { arguments: { env: 'staging', n: 'retry' } })).body.id as string;
    await tickBoth();
    await eventually('posted', async () => (await messagesOf(id)).length === 2);
    await later(30); // the escalation (Carol's DM posted)
    const msgs = await messagesOf(id);
    assert.equal(msgs.length, 3);
    const before = new Map(msgs.map((m) => [m.ts, updatesOf(m.ts).length]));
    slack.fail('chat.postMessage', { status: 500 });
    await later(30); // the reminder: one of its three replies fails
    const failed = await nodes.a.gw.deps.db.read
      .selectFrom('notification_deliveries')
      .selectAll()
      .where('action_id', '=', id)
      .where('event_type', '=', 'action.reminder')
      .where('status', '=', 'failed')
      .execute();
    assert.equal(failed.length, 1);
    assert.match(failed[0]?.recipient ?? '', /^thread /);
    await clock.advance(10 * MIN); // past the consumer's back-off
    await tickBoth();
    for (const m of msgs) {
      assert.equal(slack.repliesTo(m.channel, m.ts).filter((r) => r.text.startsWith('Reminder:')).length, 1, `${m.channel}: one reminder`);
      assert.equal(updatesOf(m.ts).length, (before.get(m.ts) ?? 0) + 1, `${m.channel}: updated once for the reminder`);
    }
    const retried = await nodes.a.gw.deps.db.read
      .selectFrom('notification_deliveries')
      .selectAll()
      .where('id', '=', failed[0]?.id ?? '')
      .executeTakeFirstOrThrow();
    assert.equal(retried.status, 'sent');
    assert.equal(Number(retried.attempts), 2);
  });
});
