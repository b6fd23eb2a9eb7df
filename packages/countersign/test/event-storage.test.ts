import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { selectActionRows } from '../src/domain/actions/action-rows.js';
import { readBySeq, readPage } from '../src/events/consumers/read-events.js';
import { readAfter } from '../src/events/outbox.js';
import { STORED_ACTION } from '../src/events/stored-action.js';
import type { StoredEvent } from '../src/events/types.js';
import { formatSse } from '../src/http/routes/events.js';
import { FakeClock } from '../src/lib/clock.js';
import { addPeople, call, forEachDialect, propose, review, type World, withPolicy, world } from './helpers.js';

const MIN = 60_000;

/** Every path an action event comes from, with a two-stage review whose first reviewer edits the arguments. */
const POLICY = `
policy:
  rules:
    - { name: reads, when: 'tool == "read"', effect: allow }
    - { name: no-rm, when: 'tool == "rm"', effect: deny, reason: never }
    - { name: mails, when: 'tool == "mail"', effect: review, workflow: two-step }
    - { name: pages, when: 'tool == "page"', effect: review, workflow: paged }
workflows:
  two-step:
    stages:
      - { name: sre, approvers: { groups: [sre] } }
      - { name: finance, approvers: { users: [mgr@example.com] } }
  paged:
    expires_after: 2h
    stages:
      - name: oncall
        approvers: { groups: [oncall] }
        escalation:
          levels:
            - { after: 10m, approvers: { groups: [leads] } }
          repeat: 1
`;

const BODY = 'Hello,\n\nyour refund is on its way. "Quoted", \\ backslashed, ünïcödé and an emoji 📬.\n'.repeat(20);

forEachDialect('the outbox stores an action once, and every event reads back as it was emitted', (dialect) => {
  let w: World;
  let clock: FakeClock;
  /** What subscribers heard at commit (the emitted objects), in order; without the identity epoch they were delivered at. */
  const emitted: StoredEvent[] = [];
  let mailId: string;
  /** The policy's activation at start is committed before the test subscribes. */
  const firstSeq = () => (emitted[0] as StoredEvent).seq;

  before(async () => {
    clock = new FakeClock();
    w = await world(dialect, { clock, config: withPolicy(POLICY) });
    w.gw.deps.bus.subscribe(({ epoch: _delivery, ...e }) => emitted.push(e));
    const k = await addPeople(w, [{ email: 'sre@example.com', groups: ['sre'] }, { email: 'mgr@example.com' }]);
    const read = (await call(w, 'POST', '/v1/actions?redeem=true', w.keys.agent, { tool: 'read', arguments: { path: '/a' } })).body;
    await call(w, 'POST', `/v1/actions/${read.id}/result`, w.keys.agent, { outcome: 'succeeded', output: { lines: ['a', 'b'] } });
    await propose(w, { tool: 'rm', arguments: { path: '/' } });
    const proposed = { to: ['x@example.com'], subject: 'Refund', body: BODY };
    const mail = (await propose(w, { tool: 'mail', arguments: proposed, resource: 'mailto:x@example.com', purpose: 'ticket 7' })).body;
    mailId = mail.id;
    await review(w, mail.id, k['sre@example.com'] as string, { decision: 'approve', arguments: { ...proposed, subject: 'Refund (1)' } });
    await clock.advance(MIN);
    const second = await review(w, mail.id, k['mgr@example.com'] as string, { decision: 'approve' });
    assert.equal(second.status, 200, JSON.stringify(second.body));
    const approved = second.body;
    await call(w, 'POST', '/v1/receipts/redeem', w.keys.agent, {
      receipt: approved.receipt,
      action: { id: mail.id, tool: 'mail', arguments: approved.arguments, resource: approved.resource },
    });
    await call(w, 'POST', `/v1/actions/${mail.id}/result`, w.keys.agent, { outcome: 'failed', output: { error: 'bounced' } });
    const cancelled = (await propose(w, { tool: 'mail', arguments: { to: [] } })).body;
    await call(w, 'POST', `/v1/actions/${cancelled.id}/cancel`, w.keys.agent, { reason: 'changed my mind' });
    await propose(w, { tool: 'page', arguments: { who: 'oncall' } });
    for (let i = 0; i < 4; i++) {
      await clock.advance(40 * MIN);
      await w.gw.scheduler.tick();
      await w.gw.scheduler.tick();
    }
    await w.gw.deps.committer.flush();
  });
  after(async () => w?.close());

  test('every event an outbox reader gets is, byte for byte on the stream, the one emitted at its commit', async () => {
    const read = await readAfter(w.gw.deps.db.read, firstSeq() - 1, {}, 10_000);
    assert.equal(read.length, emitted.length);
    assert.ok(emitted.some((e) => e.type === 'action.escalated') && emitted.some((e) => e.type === 'action.expired'));
    for (const [i, e] of read.entries()) assert.equal(formatSse(e), formatSse(emitted[i] as StoredEvent), `${e.type} #${e.seq}`);
  });

  test('an event read alone, its commit’s later events beyond the page, is still the one emitted', async () => {
    for (const e of emitted) {
      const [alone] = await readAfter(w.gw.deps.db.read, e.seq - 1, {}, 1);
      assert.equal(formatSse(alone as StoredEvent), formatSse(e), `${e.type} #${e.seq}`);
    }
  });

  test('a consumer’s pages, of every type or only some, and its retries by seq read the same events', async () => {
    const created = await readPage(w.gw.deps.db.read, firstSeq() - 1, 10_000, new Set(['action.created']));
    assert.deepEqual(
      created.events,
      emitted.filter((e) => e.type === 'action.created'),
    );
    const page = await readPage(w.gw.deps.db.read, firstSeq() - 1, 10_000, null);
    assert.deepEqual(page.events, emitted);
    const mails = emitted.filter((e) => e.actionId === mailId);
    const bySeq = await readBySeq(
      w.gw.deps.db.read,
      mails.map((e) => e.seq),
    );
    assert.deepEqual([...bySeq.values()], mails);
  });

  test('an event read later still shows the arguments as they were then, before and after the edit', async () => {
    const subjects = (await readAfter(w.gw.deps.db.read, 0, { actionId: mailId })).map((e) =>
      'action' in e.data ? [e.type, e.data.action.arguments.subject, e.data.action.original_arguments?.subject ?? null] : [],
    );
    assert.deepEqual(subjects, [
      ['action.created', 'Refund', null],
      ['tool.approval_required', 'Refund', null],
      ['action.updated', 'Refund (1)', 'Refund'],
      ['action.approved', 'Refund (1)', 'Refund'],
      ['action.redeemed', 'Refund (1)', 'Refund'],
      ['action.failed', 'Refund (1)', 'Refund'],
    ]);
  });

  test('the outbox row holds what changes, not the proposal, its receipt or what the row keeps for good', async () => {
    const rows = await w.gw.deps.db.read.selectFrom('events').selectAll().where('action_id', '=', mailId).orderBy('seq').execute();
    const action = await selectActionRows(w.gw.deps.db.read).where('id', '=', mailId).executeTakeFirstOrThrow();
    assert.equal(rows.length, 6);
    assert.match(action.receipt ?? '', /^ey/, 'the action was approved: its receipt is what no row may copy');
    const created = JSON.parse((rows[0] as (typeof rows)[number]).data);
    assert.deepEqual(Object.keys(created), [STORED_ACTION, 'deadlines']);
    for (const r of rows) {
      assert.ok(!r.data.includes('your refund is on its way') || JSON.parse(r.data)[STORED_ACTION].edited, `${r.type} copies the proposal`);
      assert.ok(!r.data.includes(action.receipt as string), `${r.type} copies the receipt`);
      assert.ok(!r.data.includes('ticket 7'), `${r.type} copies the purpose`);
    }
  });

  test('a row written before 026, with the whole action, reads as it always did', async () => {
    const e = emitted.find((x) => x.type === 'action.approved') as StoredEvent;
    const seq = 1_000_000_000;
    await w.gw.deps.db.write
      .insertInto('events')
      .values({
        seq,
        ts: e.ts,
        type: e.type,
        action_id: e.actionId,
        agent_id: e.agentId,
        session_id: e.sessionId,
        root_id: e.rootId,
        data: JSON.stringify(e.data),
      })
      .execute();
    const [old] = await readAfter(w.gw.deps.db.read, seq - 1);
    assert.equal(formatSse(old as StoredEvent), formatSse({ ...e, seq }));
    await w.gw.deps.db.write.deleteFrom('events').where('seq', '=', seq).execute();
  });
});
