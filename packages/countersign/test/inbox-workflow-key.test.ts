/*
 * The inbox groups pending actions by a short key of their frozen workflow (actions.workflow_key, migration
 * 030). Actions frozen under two versions of one workflow (same name, new text) have two keys, are each
 * classified by their own text, and are both under that name.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { workflowText } from '../src/domain/actions/action-rows.js';
import { workflowKey } from '../src/domain/actions/inbox-workflow-key.js';
import { FakeClock } from '../src/lib/clock.js';
import { call, forEachDialect, propose, review, type World, withPolicy, world } from './helpers.js';

const policy = (stage: string) => `
policy:
  rules: []
workflows:
  default:
    expires_after: 1h
    stages: [ ${stage} ]
`;

forEachDialect('the inbox by workflow key', (dialect) => {
  let w: World;
  const ids = { before: '', after: '' };
  before(async () => {
    w = await world(dialect, { clock: new FakeClock(), config: withPolicy(policy('{ approvers: { roles: [reviewer] }, quorum: 2 }')) });
    ids.before = (await propose(w, { arguments: { n: 1 } })).body.id;
    const applied = await call(w, 'POST', '/v1/policy/versions', w.keys.ada, {
      document: policy('{ approvers: { users: [carol@example.com] } }'),
    });
    assert.equal(applied.status, 201, JSON.stringify(applied.body));
    ids.after = (await propose(w, { arguments: { n: 2 } })).body.id;
  });
  after(async () => w.close());

  test('each action carries the key of the workflow text frozen on it, so a changed workflow has a new key', async () => {
    const rows = await w.gw.deps.db.read
      .selectFrom('actions')
      .select(['id', 'status', workflowText(), 'workflow_key'])
      .where('id', 'in', [ids.before, ids.after])
      .execute();
    assert.equal(rows.length, 2);
    for (const r of rows) {
      assert.equal(r.status, 'pending');
      assert.equal(r.workflow_key, workflowKey(r.workflow as string));
      assert.equal(r.workflow_key?.length, 22);
    }
    assert.notEqual(rows[0]?.workflow_key, rows[1]?.workflow_key);
  });

  test('actions under the old and the new text are classified by their own text and both listed under its name', async () => {
    const alice = await call(w, 'GET', '/v1/inbox?workflow=default', w.keys.alice);
    assert.equal(alice.status, 200, JSON.stringify(alice.body));
    assert.deepEqual([alice.body.need_you, alice.body.waiting_on_others], [1, 1]);
    assert.deepEqual(
      alice.body.items.map((i: { action: { id: string }; can_decide: boolean }) => [i.action.id, i.can_decide]),
      [
        [ids.before, true],
        [ids.after, false],
      ],
    );
    const carol = await call(w, 'GET', '/v1/inbox', w.keys.carol);
    assert.deepEqual([carol.body.need_you, carol.body.waiting_on_others], [2, 0]);
    const none = await call(w, 'GET', '/v1/inbox?workflow=release', w.keys.carol);
    assert.deepEqual([none.body.need_you, none.body.waiting_on_others, none.body.items.length], [0, 0, 0]);
    for (const id of [ids.before, ids.after]) {
      const one = await call(w, 'GET', `/v1/inbox/${id}`, w.keys.alice);
      assert.equal(one.body.can_decide, id === ids.before);
    }
  });

  test('my vote on the oldest pending action moves it to those waiting on others (the count reads votes from it on)', async () => {
    assert.equal((await review(w, ids.before, w.keys.alice, { decision: 'approve' })).status, 200);
    const alice = await call(w, 'GET', '/v1/inbox', w.keys.alice);
    assert.deepEqual([alice.body.need_you, alice.body.waiting_on_others], [0, 2]);
    const one = await call(w, 'GET', `/v1/inbox/${ids.before}`, w.keys.alice);
    assert.equal(one.body.action.status, 'pending');
    assert.equal(one.body.can_decide, false);
  });

  test('on PostgreSQL the connections do not JIT-compile (it cost the inbox more than its queries ran)', async (t) => {
    if (w.gw.deps.db.caps.dialect !== 'postgres') return t.skip('SQLite has no JIT');
    for (let i = 0; i < 3; i++) {
      const r = await sql<{ jit: string }>`show jit`.execute(w.gw.deps.db.read);
      assert.equal(r.rows[0]?.jit, 'off');
    }
  });
});
