import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { addAgent } from '../src/domain/identities/add-agent.js';
import { FakeClock } from '../src/lib/clock.js';
import { ADMIN, addPeople, call, forEachDialect, propose, review, type World, withPolicy, world } from './helpers.js';
import { browserCall, fastPasswords, withPassword } from './session-helpers.js';

const MIN = 60_000;

// Deadlines differ by workflow, so "earliest deadline first" is not creation order.
const POLICY = `
policy:
  rules:
    - { name: slow, when: 'tool == "slow"', effect: review, workflow: slow }
    - { name: ask-carol, when: 'tool == "ask-carol"', effect: review, workflow: carol }
workflows:
  default:
    expires_after: 1h
    stages: [ { approvers: { roles: [reviewer] } } ]
  slow:
    expires_after: 3h
    stages: [ { approvers: { roles: [reviewer] }, quorum: 2 } ]
  carol:
    expires_after: 30m
    stages: [ { approvers: { users: [carol@example.com] } } ]
`;

interface Item {
  action: { id: string; tool: string; status: string; arguments?: unknown; arguments_bytes?: number };
  owner: { id: string; email: string } | null;
  can_decide: boolean;
  why_not: string | null;
}

forEachDialect('the reviewer inbox', (dialect) => {
  let w: World;
  const clock = new FakeClock();
  const ids = { slow: '', deploy: '', carol: '', forAlice: '' };
  let otherAgentKey: string;
  before(async () => {
    w = await world(dialect, { clock, config: (c) => withPolicy(POLICY)(fastPasswords(c)) });
    await addPeople(w, [{ email: 'dora@example.com' }]);
    otherAgentKey = (await addAgent(w.gw.deps, ADMIN, { name: 'dora-bot', owner: 'dora@example.com' })).apiKey;
    // Proposed in this order; the deadlines order them otherwise.
    ids.slow = (await propose(w, { tool: 'slow', arguments: { n: 1 } })).body.id;
    await clock.advance(MIN);
    ids.deploy = (await propose(w, { tool: 'deploy', arguments: { n: 2 } }, otherAgentKey)).body.id;
    await clock.advance(MIN);
    ids.carol = (await propose(w, { tool: 'ask-carol', arguments: { n: 3 } })).body.id;
    await clock.advance(MIN);
    ids.forAlice = (await propose(w, { tool: 'deploy', arguments: { n: 4 }, on_behalf_of: 'alice@example.com' })).body.id;
    // Decided: never in an inbox.
    const done = (await propose(w, { tool: 'deploy', arguments: { n: 5 } })).body.id;
    assert.equal((await review(w, done, w.keys.carol, { decision: 'deny', reason: 'no' })).status, 200);
  });
  after(async () => w.close());

  const inbox = async (key: string, q = '') => call(w, 'GET', `/v1/inbox${q}`, key);
  const tools = (items: Item[]) => items.map((i) => i.action.id);

  test('lists what I can decide now first, then what waits on others, each by earliest deadline', async () => {
    const r = await inbox(w.keys.alice);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.need_you, 2);
    assert.equal(r.body.waiting_on_others, 2);
    assert.deepEqual(tools(r.body.items), [ids.deploy, ids.slow, ids.carol, ids.forAlice]);
    const [deploy, slow, carol, forAlice] = r.body.items as Item[];
    assert.deepEqual([deploy?.can_decide, slow?.can_decide, carol?.can_decide, forAlice?.can_decide], [true, true, false, false]);
    assert.equal(deploy?.why_not, null);
    assert.match(carol?.why_not ?? '', /not an approver of stage .*carol@example\.com/);
    assert.match(forAlice?.why_not ?? '', /acts on your behalf/);
    assert.deepEqual(deploy?.owner?.email, 'dora@example.com');
    // The list carries no payloads (an agent controls their size); the action page reads them whole.
    assert.equal(deploy?.action.arguments, undefined);
    assert.equal(deploy?.action.arguments_bytes, Buffer.byteLength(JSON.stringify({ n: 2 })));
    assert.deepEqual(slow?.owner?.email, 'bob@example.com');
  });

  test("an agent's owner, a viewer and the named approver each see it from their side", async () => {
    const bob = (await inbox(w.keys.bob)).body;
    assert.deepEqual(
      (bob.items as Item[]).filter((i) => i.action.id === ids.slow).map((i) => [i.can_decide, /own the agent/.test(i.why_not ?? '')]),
      [[false, true]],
    );
    assert.deepEqual(tools((bob.items as Item[]).filter((i) => i.can_decide)), [ids.deploy]);
    const victor = (await inbox(w.keys.victor)).body;
    assert.equal(victor.need_you, 0);
    assert.equal(victor.waiting_on_others, 4);
    assert.ok((victor.items as Item[]).every((i) => /viewers cannot review/.test(i.why_not ?? '')));
    const carol = (await inbox(w.keys.carol)).body;
    assert.deepEqual(tools((carol.items as Item[]).filter((i) => i.can_decide)), [ids.carol, ids.deploy, ids.forAlice, ids.slow]);
  });

  test('filters by agent and tool; the limit cuts the items, never the counts', async () => {
    const byTool = (await inbox(w.keys.alice, '?tool=slow')).body;
    assert.deepEqual([byTool.need_you, byTool.waiting_on_others, tools(byTool.items)], [1, 0, [ids.slow]]);
    const byAgent = (await inbox(w.keys.alice, '?agent=dora-bot')).body;
    assert.deepEqual(tools(byAgent.items), [ids.deploy]);
    const byAgentId = (await inbox(w.keys.alice, `?agent=${w.ids.agent}`)).body;
    assert.deepEqual(tools(byAgentId.items), [ids.slow, ids.carol, ids.forAlice]);
    const one = (await inbox(w.keys.alice, '?limit=1')).body;
    assert.deepEqual([one.need_you, one.waiting_on_others, tools(one.items)], [2, 2, [ids.deploy]]);
    const bad = await inbox(w.keys.alice, '?limit=0');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'invalid_request');
    assert.equal((await inbox(w.keys.alice, '?status=pending')).status, 400, 'unknown filters are refused');
  });

  test('after my vote short of quorum the action waits on others, and says why', async () => {
    assert.equal((await review(w, ids.slow, w.keys.alice, { decision: 'approve' })).body.status, 'pending');
    const r = (await inbox(w.keys.alice)).body;
    assert.equal(r.need_you, 1);
    const slow = (r.items as Item[]).find((i) => i.action.id === ids.slow);
    assert.deepEqual([slow?.can_decide, slow?.why_not], [false, 'you already voted on it; each person votes once']);
    assert.equal((await review(w, ids.slow, w.keys.alice, { decision: 'approve' })).status, 409, 'the vote it withholds would be refused');
  });

  test('one action as a person sees it: owner and whether they may vote; decided and unknown ones', async () => {
    const item = await call(w, 'GET', `/v1/inbox/${ids.deploy}`, w.keys.alice);
    assert.equal(item.status, 200);
    assert.deepEqual([item.body.action.id, item.body.owner.email, item.body.can_decide], [ids.deploy, 'dora@example.com', true]);
    assert.deepEqual(item.body.action.arguments, { n: 2 }, 'one action is read whole');
    const denied = (await propose(w, { tool: 'deploy', arguments: { n: 6 } })).body.id;
    await review(w, denied, w.keys.carol, { decision: 'deny', reason: 'later' });
    const d = (await call(w, 'GET', `/v1/inbox/${denied}`, w.keys.alice)).body;
    assert.deepEqual([d.action.status, d.can_decide, d.why_not], ['denied', false, 'it is denied already']);
    assert.equal((await call(w, 'GET', '/v1/inbox/0190a000-0000-7000-8000-000000000000', w.keys.alice)).status, 404);
    assert.equal((await call(w, 'GET', '/v1/inbox/not-an-id', w.keys.alice)).status, 404);
  });

  test('agents and anonymous callers get no inbox; a browser session does', async () => {
    assert.equal((await inbox(w.keys.agent)).status, 403);
    assert.equal((await call(w, 'GET', '/v1/inbox')).status, 401);
    assert.equal((await call(w, 'GET', `/v1/inbox/${ids.deploy}`, w.keys.agent)).status, 403);
    const browser = await withPassword(w, 'alice@example.com');
    const r = await browserCall(w, browser, 'GET', '/v1/inbox');
    assert.equal(r.status, 200);
    assert.equal(r.body.need_you, 1);
  });

  test('past its deadline, an action is no longer offered, even before the sweep expires it', async () => {
    const carolBefore = (await call(w, 'GET', `/v1/inbox/${ids.carol}`, w.keys.carol)).body;
    assert.equal(carolBefore.can_decide, true);
    await clock.advance(30 * MIN);
    const carolAfter = (await call(w, 'GET', `/v1/inbox/${ids.carol}`, w.keys.carol)).body;
    assert.equal(carolAfter.can_decide, false);
    assert.ok(['its deadline has passed', 'it is expired already'].includes(carolAfter.why_not), carolAfter.why_not);
    assert.ok(!(await inbox(w.keys.carol)).body.items.some((i: Item) => i.action.id === ids.carol && i.can_decide));
  });
});
