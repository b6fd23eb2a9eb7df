import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addAgent } from '../src/domain/identities/add-agent.js';
import { setUserGroups } from '../src/domain/identities/set-user-groups.js';
import { setUserRole } from '../src/domain/identities/set-user-role.js';
import { FakeClock } from '../src/lib/clock.js';
import { ADMIN, addPeople, call, forEachDialect, propose, review, type World, withPolicy, world } from './helpers.js';

/**
 * The inbox counts pending actions by class in SQL and walks them a page at a time (inbox-rows.ts,
 * inbox-classify.ts). These tests hold it to the one-action answer (GET /v1/inbox/:id, which asks the vote
 * rules about that action alone) over an inbox many pages long, for people on every side of the rules.
 */

const SECOND = 1000;
const HOUR = 3600_000;

// Deadlines differ by workflow, so inbox order interleaves them; approvers by role, group, user and owner.
const POLICY = `
policy:
  rules:
    - { name: ops, when: 'tool == "ops"', effect: review, workflow: ops }
    - { name: ask-carol, when: 'tool == "ask-carol"', effect: review, workflow: carol }
    - { name: owners, when: 'tool == "owners"', effect: review, workflow: owners }
    - { name: twice, when: 'tool == "twice"', effect: review, workflow: twice }
workflows:
  default:
    expires_after: 1h
    stages: [ { approvers: { roles: [reviewer] } } ]
  ops:
    expires_after: 50m
    stages: [ { approvers: { groups: [ops] } } ]
  carol:
    expires_after: 40m
    stages: [ { approvers: { users: [carol@example.com] } } ]
  owners:
    expires_after: 70m
    stages: [ { approvers: { owner: true, groups: [ops] } } ]
  twice:
    expires_after: 80m
    stages: [ { approvers: { roles: [reviewer] }, quorum: 2 } ]
`;

const TOOLS = ['deploy', 'ops', 'ask-carol', 'owners', 'twice'] as const;

interface Entry {
  action: { id: string; expires_at: string | null };
  can_decide: boolean;
  why_not: string | null;
  may_vote_for: { email: string; delegation_id: string }[];
}
interface InboxBody {
  need_you: number;
  waiting_on_others: number;
  items: Entry[];
}

forEachDialect('an inbox many pages long', (dialect) => {
  let w: World;
  const clock = new FakeClock();
  const keys: Record<string, string> = {};
  const ids: string[] = [];
  const byTool = new Map<string, string[]>();
  const forNobody: number[] = [];

  before(async () => {
    w = await world(dialect, { clock, config: withPolicy(POLICY) });
    Object.assign(keys, await addPeople(w, [{ email: 'dora@example.com', groups: ['ops'] }, { email: 'xavier@example.com' }]));
    const doraBot = (await addAgent(w.gw.deps, ADMIN, { name: 'dora-bot', owner: 'dora@example.com' })).apiKey;
    // xavier holds dora's vote: he may decide what only the ops group may, for her.
    const d = await call(w, 'POST', '/v1/admin/delegations', w.keys.ada, {
      delegator: 'dora@example.com',
      delegate: 'xavier@example.com',
      ends_at: new Date(clock.now() + 5 * HOUR).toISOString(),
    });
    assert.equal(d.status, 201, JSON.stringify(d.body));
    const agents = [w.keys.agent, w.keys.otherAgent, doraBot];
    const onBehalf = [undefined, 'alice@example.com', 'Dora@Example.com', 'someone@example.com'];
    for (let i = 0; i < 60; i++) {
      const tool = TOOLS[i % TOOLS.length] as string;
      const body: Record<string, unknown> = { tool, arguments: { i } };
      const obo = onBehalf[i % 7 === 0 ? 1 : i % 11 === 0 ? 2 : i % 13 === 0 ? 3 : 0];
      if (obo) body.on_behalf_of = obo;
      else if (tool === 'twice') forNobody.push(ids.length);
      const r = await propose(w, body, agents[i % agents.length]);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal(r.body.status, 'pending');
      ids.push(r.body.id);
      byTool.set(tool, [...(byTool.get(tool) ?? []), r.body.id]);
      await clock.advance(30 * SECOND);
    }
    // Votes short of quorum: alice voted on some, dora on one xavier could otherwise cast for her.
    for (const i of forNobody.slice(0, 5))
      assert.equal((await review(w, ids[i] as string, w.keys.alice, { decision: 'approve' })).status, 200);
    const opsByDora = (byTool.get('owners') ?? [])[1] as string;
    assert.equal((await review(w, opsByDora, keys['dora@example.com'] as string, { decision: 'deny', reason: 'no' })).status, 200);
  });
  after(async () => w.close());

  const inbox = async (key: string, q = ''): Promise<InboxBody> => {
    const r = await call(w, 'GET', `/v1/inbox${q}`, key);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body;
  };

  /** Each pending action as GET /v1/inbox/:id shows it to this person (the vote rules asked about it alone). */
  const oneByOne = async (key: string, keep: (id: string) => boolean = () => true) => {
    const one: Entry[] = [];
    for (const id of ids.filter(keep)) {
      const r = await call(w, 'GET', `/v1/inbox/${id}`, key);
      assert.equal(r.status, 200);
      if (r.body.action.status === 'pending') one.push(r.body);
    }
    return one;
  };
  /** What the inbox must say, worked out from the one-action answers: decidable first, each by deadline (none last), then id. */
  const expected = (one: readonly Entry[], limit: number) => {
    const at = (e: Entry) => e.action.expires_at ?? '~';
    const order = (a: Entry, b: Entry) => (at(a) < at(b) ? -1 : at(a) > at(b) ? 1 : a.action.id < b.action.id ? -1 : 1);
    const mine = one.filter((e) => e.can_decide).sort(order);
    const others = one.filter((e) => !e.can_decide).sort(order);
    const page = [...mine, ...others].slice(0, limit);
    return {
      need_you: mine.length,
      waiting_on_others: others.length,
      items: page.map((e) => [e.action.id, e.can_decide, e.why_not, e.may_vote_for]),
    };
  };
  const got = (b: InboxBody) => ({
    need_you: b.need_you,
    waiting_on_others: b.waiting_on_others,
    items: b.items.map((e) => [e.action.id, e.can_decide, e.why_not, e.may_vote_for]),
  });

  describe('for each person, at every page size, it says what the one-action view says, in deadline order', () => {
    for (const who of ['alice', 'carol', 'bob', 'victor', 'dora', 'xavier']) {
      it(`as ${who}`, async () => {
        const key = (w.keys as Record<string, string>)[who] ?? (keys[`${who}@example.com`] as string);
        const one = await oneByOne(key);
        for (const limit of [1, 7, 45, 200]) {
          assert.deepEqual(got(await inbox(key, `?limit=${limit}`)), expected(one, limit), `limit ${limit}`);
        }
      });
    }
  });

  it('filters by workflow, tool and agent give the same answer as the one-action view', async () => {
    const ops = new Set([...(byTool.get('ops') ?? []), ...(byTool.get('owners') ?? [])]);
    const dora = keys['dora@example.com'] as string;
    const byWorkflow = await inbox(dora, '?workflow=ops&limit=3');
    assert.deepEqual(got(byWorkflow), expected(await oneByOne(dora, (id) => (byTool.get('ops') ?? []).includes(id)), 3));
    const byToolBody = await inbox(keys['xavier@example.com'] as string, '?tool=owners&limit=4');
    assert.deepEqual(
      got(byToolBody),
      expected(await oneByOne(keys['xavier@example.com'] as string, (id) => (byTool.get('owners') ?? []).includes(id)), 4),
    );
    assert.ok(
      byToolBody.items.some((e) => e.may_vote_for.length === 1),
      'xavier may vote for dora on some',
    );
    assert.ok(ops.size > 0);
    // The twice actions come last by deadline, and the filter is applied to the rows the walk reads: the
    // page needs a second, larger step of the walk.
    const twice = (id: string) => (byTool.get('twice') ?? []).includes(id);
    assert.deepEqual(got(await inbox(w.keys.alice, '?workflow=twice&limit=15')), expected(await oneByOne(w.keys.alice, twice), 15));
    const none = await inbox(dora, '?workflow=no-such-workflow');
    assert.deepEqual([none.need_you, none.waiting_on_others, none.items], [0, 0, []]);
  });

  it('a lost group or role takes the actions out of "can decide" at the next request', async () => {
    const dora = keys['dora@example.com'] as string;
    const xavier = keys['xavier@example.com'] as string;
    const opsOnly = (id: string) => (byTool.get('ops') ?? []).includes(id);
    assert.ok((await inbox(dora, '?workflow=ops')).need_you > 0);
    assert.ok((await inbox(xavier, '?workflow=ops')).need_you > 0, 'through dora, xavier may too');
    await setUserGroups(w.gw.deps, ADMIN, { email: 'dora@example.com', groups: [] });
    const after = await inbox(dora, '?workflow=ops');
    assert.equal(after.need_you, 0);
    assert.deepEqual(got(after), expected(await oneByOne(dora, opsOnly), 100));
    assert.equal((await inbox(xavier, '?workflow=ops')).need_you, 0, 'and so may xavier no longer, for her');
    const reviewer = await inbox(w.keys.alice);
    const before = reviewer.need_you;
    assert.ok(before > 0);
    await setUserRole(w.gw.deps, ADMIN, { email: 'alice@example.com', role: 'viewer' });
    const viewer = await inbox(w.keys.alice);
    assert.equal(viewer.need_you, 0);
    assert.equal(viewer.waiting_on_others, before + reviewer.waiting_on_others);
    await setUserRole(w.gw.deps, ADMIN, { email: 'alice@example.com', role: 'reviewer' });
    await setUserGroups(w.gw.deps, ADMIN, { email: 'dora@example.com', groups: ['ops'] });
    assert.equal((await inbox(w.keys.alice)).need_you, before);
  });

  it('an action without a deadline comes after every one with a deadline', async () => {
    // No workflow leaves a pending action without a deadline today; a row from before deadlines were
    // mandatory would. The walk reads those after the others, by id.
    const last = ids[0] as string;
    await w.gw.deps.db.write.updateTable('actions').set({ expires_at: null }).where('id', '=', last).execute();
    try {
      const all = await inbox(w.keys.carol, '?limit=200');
      const mineIds = all.items.filter((e) => e.can_decide).map((e) => e.action.id);
      assert.equal(mineIds.at(-1), last);
      assert.deepEqual(got(all), expected(await oneByOne(w.keys.carol), 200));
    } finally {
      await w.gw.deps.db.write
        .updateTable('actions')
        .set({ expires_at: clock.now() + HOUR })
        .where('id', '=', last)
        .execute();
    }
  });
});
