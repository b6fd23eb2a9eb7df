/*
 * Teams answering 429 or 500: the card is retried on the consumer's back-off, then dead-lettered with the
 * delivery record dead; the other recipients are posted once; a replay posts what was not posted. The
 * same for a Workflows webhook, and for the updates after a decision.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { FakeClock } from '../src/lib/clock.js';
import { auditRows, call, forEachDialect, propose, review, type World, world } from './helpers.js';
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
      config: (c) => withTeams(standin, { events: { ...c.events, consumerMaxAttempts: 3 } }, ROUTES)(c),
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
});
