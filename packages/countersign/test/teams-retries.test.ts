/*
 * Teams answering 429 or 500: the card is retried on the consumer's back-off, then dead-lettered with the
 * delivery record dead; the other recipients are posted once; a replay posts what was not posted. The
 * same for a Workflows webhook, and for the updates after a decision. A 429's Retry-After is honoured by
 * the gateway's clock. A reminder or an escalation updates each person's card in place (PUT)
 * and replies to it (ReplyToActivity) mentioning them, instead of posting another.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { FakeClock } from '../src/lib/clock.js';
import { auditRows, call, forEachDialect, propose, review, type World, withPolicy, world } from './helpers.js';
import { MIN, remindingPolicy } from './reminding-policy.js';
import { activity, linkTeams, TEAMS_PEOPLE as P, toBot, withTeams } from './teams-helpers.js';
import { TeamsStandIn } from './teams-standin.js';

const ROUTES = [
  {
    workflow: '*',
    events: ['asked', 'decided'],
    to: [
      { kind: 'approvers', channel: 'teams' },
      { kind: 'teams_webhook', webhook: 'ops' },
    ],
  },
];

/** Reviewers decide; after 30 minutes the stage escalates (to reviewers again), then reminds every 30 minutes. */
const REMINDING = remindingPolicy('{ roles: [reviewer] }', '{ roles: [reviewer] }');

forEachDialect('Teams failures', (dialect) => {
  let w: World;
  let standin: TeamsStandIn;
  let clock: FakeClock;
  const tick = () => w.gw.consumerRunner.tick('teams');
  const deliveries = (actionId: string) =>
    w.gw.deps.db.read.selectFrom('notification_deliveries').selectAll().where('action_id', '=', actionId).orderBy('recipient').execute();
  const posts = (id: string) => standin.calls.filter((c) => c.method === 'POST' && c.status === 201 && JSON.stringify(c.body).includes(id));

  before(async () => {
    standin = new TeamsStandIn();
    await standin.start();
    clock = new FakeClock();
    w = await world(dialect, {
      clock,
      config: (c) => withTeams(standin, { events: { ...c.events, consumerMaxAttempts: 3 } }, ROUTES)(withPolicy(REMINDING)(c)),
    });
    for (const p of [P.alice, P.carol]) {
      await linkTeams(w, p);
      await toBot(w, standin, activity(standin, p, { type: 'conversationUpdate' }));
    }
  });
  after(async () => {
    await w.close();
    await standin.close();
  });

  test('429 then 500 from the Connector: retried, then dead-lettered; the others posted once; a replay posts it once', async () => {
    // Alice's chat is throttled, then failing; carol's goes through.
    const aliceChat = `a:personal-${P.alice.teamsId}`;
    standin.refuse(aliceChat, 429);
    const id = (await propose(w, { arguments: { n: 1 } })).body.id;
    await tick();
    let rows = await deliveries(id);
    assert.deepEqual(
      rows.map((r) => [r.recipient, r.status]),
      [
        ['alice@example.com', 'failed'],
        ['carol@example.com', 'sent'],
        ['webhook:ops', 'sent'],
      ],
    );
    assert.match(rows[0]?.last_error ?? '', /429/);
    standin.refuse(aliceChat, 500);
    for (let i = 0; i < 2; i++) {
      await clock.advance(60_000);
      await tick();
    }
    rows = await deliveries(id);
    const alice = rows.find((r) => r.recipient === 'alice@example.com');
    assert.equal(alice?.status, 'dead');
    assert.equal(Number(alice?.attempts), 3);
    assert.match(alice?.last_error ?? '', /500/);
    assert.equal(posts(id).length, 1, 'carol was posted once, not on every retry');
    assert.equal(standin.workflowPosts.filter((p) => JSON.stringify(p.body).includes(id)).length, 1);
    const dead = await call(w, 'GET', '/v1/admin/dead-letters?consumer=teams', w.keys.ada);
    assert.equal(dead.body.items.length, 1);
    const audit = (await auditRows(w, id)).map((r) => r.event);
    assert.ok(audit.includes('notification.failed') && audit.includes('notification.dead'));
    const failed = await call(w, 'GET', `/v1/admin/deliveries?action=${id}&channel=teams&status=dead`, w.keys.ada);
    assert.equal(failed.body.items.length, 1);

    standin.refuse(aliceChat, null);
    assert.equal((await call(w, 'POST', `/v1/admin/dead-letters/${dead.body.items[0].id}/replay`, w.keys.ada)).status, 200);
    await tick();
    assert.equal(posts(id).length, 2, 'the replay posts alice once; carol is not posted again');
    assert.equal((await deliveries(id)).find((r) => r.recipient === 'alice@example.com')?.status, 'sent');
  });

  test('a Workflows webhook answering 500 is retried and then posted once', async () => {
    standin.workflowFailures.push(500);
    const id = (await propose(w, { arguments: { n: 2 } })).body.id;
    await tick();
    assert.equal((await deliveries(id)).find((r) => r.recipient === 'webhook:ops')?.status, 'failed');
    await clock.advance(60_000);
    await tick();
    assert.equal((await deliveries(id)).find((r) => r.recipient === 'webhook:ops')?.status, 'sent');
    assert.equal(standin.workflowPosts.filter((p) => JSON.stringify(p.body).includes(id)).length, 1);
    assert.equal(posts(id).length, 2, 'the cards were not posted again by the retry');
  });

  test('an update throttled after a decision is retried until every card shows the outcome', async () => {
    const id = (await propose(w, { arguments: { n: 3 } })).body.id;
    await tick();
    assert.equal(posts(id).length, 2);
    assert.equal((await review(w, id, w.keys.ada, { decision: 'deny', reason: 'no' })).status, 200);
    standin.connectorFailures.push(429);
    await tick();
    const cards = [...standin.activities.values()].filter((a) => JSON.stringify(a.card).includes(id));
    assert.equal(cards.filter((c) => c.versions === 2).length, 1, 'one card updated, the throttled one not yet');
    await clock.advance(60_000);
    await tick();
    const after = [...standin.activities.values()].filter((a) => JSON.stringify(a.card).includes(id));
    assert.ok(
      after.every((c) => c.versions === 2 && JSON.stringify(c.card).includes('denied by ada@example.com')),
      'each updated exactly once',
    );
  });

  test("a Connector 429 with Retry-After: 20 is retried no sooner than 20 s later by the gateway's clock, then each card is posted once", async () => {
    standin.retryAfterSeconds = 20;
    standin.connectorFailures.push(429);
    const id = (await propose(w, { arguments: { n: 4 } })).body.id;
    const throttledAt = clock.now();
    await tick();
    const failed = (await deliveries(id)).filter((r) => r.status === 'failed');
    assert.equal(failed.length, 1, 'one card throttled');
    assert.match(failed[0]?.last_error ?? '', /429 \(retry after 20s\)/);
    const retry = await w.gw.deps.db.read.selectFrom('event_consumer_retries').selectAll().where('consumer', '=', 'teams').execute();
    assert.equal(retry.length, 1);
    assert.ok(Number(retry[0]?.next_attempt_at) >= throttledAt + 20_000, 'the retry is scheduled after Retry-After');
    const calls = standin.calls.length;
    await clock.advance(19_999);
    await tick();
    assert.equal(standin.calls.length, calls, 'no call to the Connector before Retry-After is over');
    await clock.advance(1);
    await tick();
    assert.ok((await deliveries(id)).every((r) => r.status === 'sent'));
    assert.equal(posts(id).length, 2, 'alice and carol, each once');
    standin.retryAfterSeconds = 5;
  });

  test("an escalation and a reminder each update every person's card in place (PUT to its activity) and reply to it once, mentioning the person; no card is posted again; the decision then updates the same cards", async () => {
    const id = (await propose(w, { arguments: { n: 5 } })).body.id;
    await tick();
    const cardsOf = () => [...standin.activities.values()].filter((a) => JSON.stringify(a.card).includes(id));
    const posted = cardsOf();
    assert.equal(posted.length, 2, 'one card for each linked reviewer');
    const ask = async (minutes: number) => {
      await clock.advance(minutes * MIN);
      // Twice, as a sweep may leave the next firing to the following tick (timers.test.ts does the same).
      await w.gw.scheduler.tick();
      await w.gw.scheduler.tick();
      await tick();
    };
    const before = posts(id).length;
    const putsOf = () => standin.calls.filter((c) => c.method === 'PUT' && c.status === 200 && JSON.stringify(c.body).includes(id));
    const repliesOf = () => standin.replies.filter((r) => posted.some((c) => c.id === r.replyToId));
    await ask(30); // the escalation asks the same reviewers: their cards are updated, each gets a reply
    assert.equal(posts(id).length, before, 'no card posted for the escalation: everyone asked had one');
    assert.equal(putsOf().length, 2);
    assert.equal(repliesOf().length, 2);
    assert.ok(repliesOf().every((r) => r.text.startsWith('Escalated (level 1)')));
    await ask(30); // the first reminder
    const events = await w.gw.deps.db.read.selectFrom('events').select('type').where('action_id', '=', id).execute();
    assert.ok(
      events.some((e) => e.type === 'action.reminder'),
      'a reminder fired',
    );
    assert.equal(posts(id).length, before, 'no card posted for the reminder');
    const puts = putsOf().slice(2);
    assert.equal(puts.length, 2, "each person's card replaced once more");
    for (const put of puts) {
      const card = posted.find((a) => a.id === put.activityId);
      assert.ok(card, 'the PUT names an activity the bot posted');
      assert.equal(put.conversationId, card?.conversationId);
      assert.equal(put.path, `/${encodeURIComponent(card?.conversationId ?? '')}/activities/${encodeURIComponent(card?.id ?? '')}`);
      assert.match(JSON.stringify(standin.activities.get(put.activityId ?? '')?.card), /Reminder: this action is still waiting/);
    }
    const reminders = repliesOf().slice(2);
    assert.equal(reminders.length, 2, 'one reminder reply under each card');
    for (const r of reminders) {
      const card = posted.find((c) => c.id === r.replyToId);
      assert.equal(r.conversationId, card?.conversationId, 'the reply is in the card’s conversation');
      assert.match(r.text, /^Reminder: this action is still waiting for a decision\./);
      assert.equal(r.mentions.length, 1, 'the person is mentioned');
      assert.ok(r.text.includes(`<at>${r.mentions[0]?.name}</at>`));
    }
    const reminded = (await deliveries(id)).filter((r) => r.event_type === 'action.reminder' && r.recipient !== 'webhook:ops');
    assert.deepEqual(
      reminded.map((r) => r.status),
      ['sent', 'sent'],
    );
    assert.deepEqual(
      reminded.map((r) => r.external_ref).sort(),
      reminders.map((r) => r.id).sort(),
      'each reminder is a delivery record naming its reply',
    );
    assert.equal(
      standin.workflowPosts.filter((p) => JSON.stringify(p.body).includes(id)).length,
      3,
      'a webhook cannot be updated: it is posted each time',
    );
    assert.equal((await review(w, id, w.keys.ada, { decision: 'deny', reason: 'not now' })).status, 200);
    await tick();
    for (const put of puts) assert.match(JSON.stringify(standin.activities.get(put.activityId ?? '')?.card), /denied/);
  });

  test('a reminder reply the Connector refuses (500) is retried: the card shows the reminder, and the reply is sent once on the retry with the delivery sent on its second attempt', async () => {
    const id = (await propose(w, { arguments: { n: 6 } })).body.id;
    await tick();
    const posted = [...standin.activities.values()].filter((a) => JSON.stringify(a.card).includes(id));
    assert.equal(posted.length, 2);
    const repliesOf = () => standin.replies.filter((r) => posted.some((c) => c.id === r.replyToId));
    const ask = async (minutes: number) => {
      await clock.advance(minutes * MIN);
      await w.gw.scheduler.tick();
      await w.gw.scheduler.tick();
      await tick();
    };
    await ask(30); // the escalation: two replies
    assert.equal(repliesOf().length, 2);
    standin.replyFailures.push(500);
    await ask(30); // the reminder: one of the two replies is refused
    assert.equal(repliesOf().filter((r) => r.text.startsWith('Reminder:')).length, 1);
    const failed = (await deliveries(id)).filter((r) => r.event_type === 'action.reminder' && r.status === 'failed');
    assert.equal(failed.length, 1);
    await clock.advance(60_000); // past the back-off
    await tick();
    const reminders = repliesOf().filter((r) => r.text.startsWith('Reminder:'));
    assert.equal(reminders.length, 2, 'each card has one reminder reply');
    assert.deepEqual(new Set(reminders.map((r) => r.replyToId)), new Set(posted.map((c) => c.id)));
    const retried = (await deliveries(id)).find((r) => r.id === failed[0]?.id);
    assert.equal(retried?.status, 'sent');
    assert.equal(Number(retried?.attempts), 2);
    for (const c of posted) assert.match(JSON.stringify(standin.activities.get(c.id)?.card), /Reminder: this action is still waiting/);
  });
});
