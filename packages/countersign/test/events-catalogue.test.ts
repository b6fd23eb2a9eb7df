import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { readAfter } from '../src/events/outbox.js';
import { EVENT_PAYLOADS, EVENT_TYPES, EventMessage, type StoredEvent } from '../src/events/types.js';
import { formatSse } from '../src/http/routes/events.js';
import { FakeClock } from '../src/lib/clock.js';
import { addPeople, call, forEachDialect, propose, REPO_ROOT, review, type World, withPolicy, world } from './helpers.js';

const MIN = 60_000;

/** One rule per path an event can come from. */
const POLICY = `
policy:
  rules:
    - { name: reads, when: 'tool == "read"', effect: allow }
    - { name: no-rm, when: 'tool == "rm"', effect: deny, reason: never }
    - { name: deploys, when: 'tool == "deploy"', effect: review, workflow: two-step }
    - { name: pages, when: 'tool == "page"', effect: review, workflow: paged }
workflows:
  two-step:
    stages:
      - { name: sre, approvers: { groups: [sre] } }
      - { name: finance, approvers: { users: [mgr@example.com] }, timeout: 30m, on_timeout: deny }
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

forEachDialect('the event catalogue', (dialect) => {
  let w: World;
  let clock: FakeClock;
  let events: StoredEvent[];
  let ids: Record<string, string>;

  before(async () => {
    clock = new FakeClock();
    w = await world(dialect, { clock, config: withPolicy(POLICY) });
    const k = await addPeople(w, [{ email: 'sre@example.com', groups: ['sre'] }, { email: 'mgr@example.com' }]);
    const run = (a: { id: string; tool: string; arguments: unknown; resource: unknown }) => ({
      id: a.id,
      tool: a.tool,
      arguments: a.arguments,
      resource: a.resource,
    });
    const read = (await propose(w, { tool: 'read', arguments: { path: '/a' } })).body;
    await call(w, 'POST', '/v1/receipts/redeem', w.keys.agent, { receipt: read.receipt, action: run(read) });
    await call(w, 'POST', `/v1/actions/${read.id}/result`, w.keys.agent, { outcome: 'succeeded' });
    const readFails = (await call(w, 'POST', '/v1/actions?redeem=true', w.keys.agent, { tool: 'read', arguments: { path: '/b' } })).body;
    await call(w, 'POST', `/v1/actions/${readFails.id}/result`, w.keys.agent, { outcome: 'failed' });
    const rm = (await propose(w, { tool: 'rm', arguments: {} })).body;
    const deploy = (await propose(w, { tool: 'deploy', arguments: { env: 'prod' } })).body;
    await review(w, deploy.id, k['sre@example.com'] as string, { decision: 'approve' });
    const cancelled = (await propose(w, { tool: 'deploy', arguments: { env: 'staging' } })).body;
    await call(w, 'POST', `/v1/actions/${cancelled.id}/cancel`, w.keys.agent, {});
    const paged = (await propose(w, { tool: 'page', arguments: {} })).body;
    // Two passes after each step: the first may be one the clock's own timer started before the step.
    const sweep = async () => {
      await w.gw.scheduler.tick();
      await w.gw.scheduler.tick();
    };
    for (let i = 0; i < 3; i++) {
      await clock.advance(10 * MIN);
      await sweep();
    }
    await clock.advance(2 * 60 * MIN);
    await sweep();
    await w.gw.deps.committer.flush();
    ids = { read: read.id, readFails: readFails.id, rm: rm.id, deploy: deploy.id, cancelled: cancelled.id, paged: paged.id };
    events = await readAfter(w.gw.deps.db.read, 0, {}, 10_000);
  });
  after(async () => w?.close());

  test('every event written matches the payload schema of its type, with no field beyond it', () => {
    for (const e of events) {
      const schema = EVENT_PAYLOADS[e.type];
      const parsed = schema.safeParse(e.data);
      assert.ok(parsed.success, `${e.type} #${e.seq}: ${parsed.success ? '' : parsed.error.message}`);
      assert.deepEqual(Object.keys(e.data).sort(), Object.keys(schema.shape).sort(), `${e.type} carries exactly its fields`);
    }
  });

  test('each event’s stream message is the Event schema /openapi.json publishes for the stream', async () => {
    for (const e of events) {
      const data = /^data: (.*)$/m.exec(formatSse(e))?.[1] as string;
      const parsed = EventMessage.safeParse(JSON.parse(data));
      assert.ok(parsed.success, `${e.type} #${e.seq}`);
    }
    const doc = (await call(w, 'GET', '/openapi.json', w.keys.alice)).body;
    const stream = doc.paths['/v1/events'].get.responses['200'].content['text/event-stream'];
    assert.deepEqual(stream.itemSchema, { $ref: '#/components/schemas/Event' });
    const types = doc.components.schemas.Event.oneOf.map((o: { properties: { type: { const: string } } }) => o.properties.type.const);
    assert.deepEqual(types, [...EVENT_TYPES]);
  });

  test('every action event type is written by some path through the gateway', () => {
    const seen = new Set(events.map((e) => e.type));
    const missing = EVENT_TYPES.filter((t) => t !== 'policy.activated' && !seen.has(t));
    assert.deepEqual(missing, []);
  });

  test('a review that starts asks the first stage’s approvers; its next stage asks the next ones', () => {
    const asked = events
      .filter((e) => e.actionId === ids.deploy)
      .flatMap((e) => ('asked' in e.data && e.data.asked ? [[e.type, e.data.asked] as const] : []));
    assert.deepEqual(
      asked.map(([type, a]) => [type, a.reason, a.stage.name, a.approvers.groups, a.approvers.users]),
      [
        ['tool.approval_required', 'review_started', 'sre', ['sre'], []],
        ['action.updated', 'stage_started', 'finance', [], ['mgr@example.com']],
      ],
    );
  });

  test('an escalation asks its level’s people and a reminder everyone in force, with level and round', () => {
    const asked = events
      .filter((e) => e.actionId === ids.paged && (e.type === 'action.escalated' || e.type === 'action.reminder'))
      .map((e) =>
        'asked' in e.data && e.data.asked ? [e.type, e.data.asked.approvers.groups, e.data.asked.level, e.data.asked.round] : [],
      );
    assert.deepEqual(asked, [
      ['action.escalated', ['leads'], 1, 1],
      ['action.reminder', ['oncall', 'leads'], 1, 2],
    ]);
  });

  test('deadlines travel in milliseconds and agree with the action’s dates', () => {
    for (const e of events) {
      if (!('action' in e.data)) continue;
      const { action, deadlines } = e.data;
      const ms = (iso: string | null | undefined) => (iso ? Date.parse(iso) : null);
      assert.equal(deadlines.expires_at_ms, ms(action.expires_at), `${e.type} expires_at`);
      assert.equal(deadlines.execute_by_ms, ms(action.execute_by), `${e.type} execute_by`);
      const stageTimeout = action.status === 'pending' ? ms(action.workflow?.stage.timeout_at) : null;
      assert.equal(deadlines.stage_timeout_at_ms, stageTimeout, `${e.type} stage time-out`);
    }
  });

  test('events carry their scope: the action, its agent, session and root', () => {
    for (const e of events) {
      if (!('action' in e.data)) continue;
      assert.equal(e.actionId, e.data.action.id);
      assert.equal(e.agentId, e.data.action.agent.id);
      assert.equal(e.sessionId, e.data.action.session_id);
      assert.equal(e.rootId, e.data.action.root_id);
    }
  });

  test('rows written before the catalogue (a bare action view) are read in the catalogue’s shape', async () => {
    const approved = events.find((e) => e.type === 'action.approved') as StoredEvent;
    const view = 'action' in approved.data ? approved.data.action : undefined;
    const db = w.gw.deps.db.write;
    const seq = 1_000_000_000;
    await db
      .insertInto('events')
      .values({
        seq,
        ts: 1,
        type: 'action.approved',
        action_id: approved.actionId,
        agent_id: w.ids.agent,
        session_id: null,
        root_id: null,
        data: JSON.stringify(view),
      })
      .execute();
    const [old] = await readAfter(w.gw.deps.db.read, seq - 1);
    assert.ok(old && 'action' in old.data);
    assert.deepEqual(old.data.action, view);
    assert.equal(old.data.deadlines.execute_by_ms, Date.parse(String(view?.execute_by)));
    await db.deleteFrom('events').where('seq', '=', seq).execute();
  });
});

test('docs/events.md documents every event type of the catalogue', () => {
  const doc = readFileSync(resolve(REPO_ROOT, 'docs/events.md'), 'utf8');
  const undocumented = EVENT_TYPES.filter((t) => !doc.includes(`\`${t}\``));
  assert.deepEqual(undocumented, []);
});
