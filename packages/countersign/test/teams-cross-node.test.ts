/*
 * Two gateways on one database, both running the teams consumer: every card is posted exactly once and
 * updated exactly once after the decision, whichever node holds the consumer's lease.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eventually, type TwoNodes, twoNodes } from './cross-node-helpers.js';
import { forEachDialect, propose, review } from './helpers.js';
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

forEachDialect('Teams cards on two gateways', (dialect) => {
  let nodes: TwoNodes;
  let standin: TeamsStandIn;

  before(async () => {
    standin = new TeamsStandIn();
    await standin.start();
    nodes = await twoNodes(dialect, { config: withTeams(standin, {}, ROUTES) });
    for (const p of [P.alice, P.carol]) {
      await linkTeams(nodes.a, p);
      await toBot(nodes.b, standin, activity(standin, p, { type: 'conversationUpdate' }));
    }
  });
  after(async () => {
    await nodes.close();
    await standin.close();
  });

  const tickBoth = () => Promise.all([nodes.a.gw.consumerRunner.tick('teams'), nodes.b.gw.consumerRunner.tick('teams')]);

  test('actions proposed on either gateway post each card once and update it once, with both nodes running the consumer', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const node = i % 2 === 0 ? nodes.a : nodes.b;
      ids.push((await propose(node, { arguments: { i } })).body.id);
      await tickBoth();
    }
    await eventually('every card is posted', () => standin.activities.size >= ids.length * 2);
    for (const [i, id] of ids.entries()) {
      const node = i % 2 === 0 ? nodes.b : nodes.a;
      assert.equal((await review(node, id, node.keys.ada, { decision: 'approve' })).status, 200);
      await tickBoth();
    }
    await eventually('every card is updated', () => [...standin.activities.values()].every((a) => a.versions >= 2));
    for (let i = 0; i < 3; i++) await tickBoth();
    await new Promise((r) => setTimeout(r, 200));
    for (const id of ids) {
      const cards = [...standin.activities.values()].filter((a) => JSON.stringify(a.card).includes(id));
      assert.deepEqual(cards.map((c) => c.conversationId).sort(), [`a:personal-${P.alice.teamsId}`, `a:personal-${P.carol.teamsId}`]);
      assert.ok(
        cards.every((c) => c.versions === 2),
        `action ${id}: each card updated exactly once`,
      );
      assert.equal(standin.workflowPosts.filter((p) => JSON.stringify(p.body).includes(id)).length, 2, 'asked once, decided once');
    }
    assert.equal(standin.calls.filter((c) => c.method === 'POST').length, ids.length * 2);
    assert.equal(standin.calls.filter((c) => c.method === 'PUT').length, ids.length * 2);
  });
});
