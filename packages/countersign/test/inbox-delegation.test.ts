import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { FakeClock } from '../src/lib/clock.js';
import { addPeople, call, forEachDialect, propose, review, type World, withPolicy, world } from './helpers.js';

const HOUR = 3600_000;

const POLICY = `
policy:
  default: review
  rules:
    - { name: prod, when: 'tool == "deploy" && arguments.env == "production"', effect: review, workflow: sre-only }
    - { name: two, when: 'tool == "deploy" && arguments.env == "two"', effect: review, workflow: two-sres }
workflows:
  default:
    stages:
      - approvers: { roles: [reviewer] }
  sre-only:
    stages:
      - approvers: { groups: [sre] }
  two-sres:
    stages:
      - approvers: { groups: [sre] }
        quorum: 2
`;

interface Entry {
  action: { id: string };
  can_decide: boolean;
  why_not: string | null;
  may_vote_for: { email: string; delegation_id: string }[];
}

forEachDialect('the inbox of a delegate', (dialect) => {
  const open: World[] = [];
  afterEach(async () => {
    for (const w of open.splice(0)) await w.close();
  });
  /** xavier (a reviewer in no group) holds yara's vote for half an hour; yara and sam are SREs. */
  async function setup() {
    const clock = new FakeClock();
    const w = await world(dialect, { clock, config: withPolicy(POLICY) });
    open.push(w);
    const k = await addPeople(w, [
      { email: 'xavier@example.com' },
      { email: 'yara@example.com', groups: ['sre'] },
      { email: 'sam@example.com', groups: ['sre'] },
    ]);
    const keys = { x: k['xavier@example.com'] as string, y: k['yara@example.com'] as string, sam: k['sam@example.com'] as string };
    const d = await call(w, 'POST', '/v1/admin/delegations', w.keys.ada, {
      delegator: 'yara@example.com',
      delegate: 'xavier@example.com',
      ends_at: new Date(clock.now() + HOUR / 2).toISOString(),
    });
    assert.equal(d.status, 201, JSON.stringify(d.body));
    return { w, clock, keys, yToX: d.body.id as string };
  }
  const inboxOf = async (w: World, key: string) => {
    const r = await call(w, 'GET', '/v1/inbox', key);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body as { need_you: number; waiting_on_others: number; items: Entry[] };
  };
  const entry = (items: Entry[], id: string) => items.find((i) => i.action.id === id) as Entry;

  test('an action only the delegator could approve is among those the delegate can decide, marked for whom', async () => {
    const { w, keys, yToX } = await setup();
    const { body: a } = await propose(w);
    const x = await inboxOf(w, keys.x);
    assert.equal(x.need_you, 1);
    const e = entry(x.items, a.id);
    assert.equal(e.can_decide, true);
    assert.deepEqual(e.may_vote_for, [{ email: 'yara@example.com', delegation_id: yToX }]);
    assert.match(e.why_not ?? '', /not an approver of stage/, 'why not as himself stays said');
    const one = await call(w, 'GET', `/v1/inbox/${a.id}`, keys.x);
    assert.deepEqual([one.body.can_decide, one.body.may_vote_for], [true, [{ email: 'yara@example.com', delegation_id: yToX }]]);
    const sam = entry((await inboxOf(w, keys.sam)).items, a.id);
    assert.deepEqual([sam.can_decide, sam.why_not, sam.may_vote_for], [true, null, []], 'someone holding no delegation is unchanged');
  });

  test('where the delegate may vote as himself too, both are open and nothing is chosen for him', async () => {
    const { w, keys, yToX } = await setup();
    const { body: a } = await propose(w, { tool: 'restart', arguments: {} });
    const e = entry((await inboxOf(w, keys.x)).items, a.id);
    assert.deepEqual([e.can_decide, e.why_not, e.may_vote_for], [true, null, [{ email: 'yara@example.com', delegation_id: yToX }]]);
  });

  test('once the delegator’s vote is cast (by her), it is no longer offered, and the action waits on others', async () => {
    const { w, keys } = await setup();
    const { body: a } = await propose(w, { arguments: { env: 'two' } });
    assert.equal((await review(w, a.id, keys.y, { decision: 'approve' })).status, 200);
    const x = await inboxOf(w, keys.x);
    const e = entry(x.items, a.id);
    assert.deepEqual([x.need_you, e.can_decide, e.may_vote_for], [0, false, []]);
  });

  test('once the delegate voted for her, he is offered nothing more on it (one review each)', async () => {
    const { w, keys } = await setup();
    const { body: a } = await propose(w, { arguments: { env: 'two' } });
    assert.equal((await review(w, a.id, keys.x, { decision: 'approve', for: 'yara@example.com' })).status, 200);
    const e = entry((await inboxOf(w, keys.x)).items, a.id);
    assert.deepEqual([e.can_decide, e.may_vote_for], [false, []]);
  });

  test('when the delegation ends or is revoked, the action leaves the delegate’s "can decide"', async () => {
    const { w, clock, keys, yToX } = await setup();
    const { body: a } = await propose(w);
    const { body: b } = await propose(w, { arguments: { env: 'production', n: 2 } });
    assert.equal((await inboxOf(w, keys.x)).need_you, 2);
    assert.equal((await call(w, 'POST', `/v1/me/delegations/${yToX}/revoke`, keys.y)).status, 200);
    const after = await inboxOf(w, keys.x);
    assert.deepEqual([after.need_you, entry(after.items, a.id).may_vote_for], [0, []]);
    const again = await call(w, 'POST', '/v1/admin/delegations', w.keys.ada, {
      delegator: 'yara@example.com',
      delegate: 'xavier@example.com',
      ends_at: new Date(clock.now() + HOUR / 4).toISOString(),
    });
    assert.equal(again.status, 201);
    assert.equal((await inboxOf(w, keys.x)).need_you, 2);
    await clock.advance(HOUR / 4);
    assert.equal(entry((await inboxOf(w, keys.x)).items, b.id).can_decide, false, 'at its end the delegation no longer counts');
  });
});
