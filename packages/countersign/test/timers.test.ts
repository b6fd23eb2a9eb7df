import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import pino from 'pino';
import { type Gateway, startGateway } from '../src/gateway.js';
import { FakeClock } from '../src/lib/clock.js';
import { EXAMPLE } from './fixtures/policies.js';
import { auditRows, call, forEachDialect, propose, type World, withPolicy, world } from './helpers.js';

const MIN = 60_000;
const prodDeploy = { tool: 'deploy', arguments: { env: 'production' } };

/** Every stage deadline, repeated: levels fire, then remind. */
const REMINDERS = `
policy:
  rules:
    - { name: prod, when: 'tool == "deploy"', effect: review, workflow: oncall }
workflows:
  oncall:
    expires_after: 2h
    stages:
      - approvers: { groups: [oncall] }
        escalation:
          levels:
            - { after: 10m, approvers: { groups: [leads] } }
            - { after: 10m, approvers: { groups: [managers] } }
          repeat: 1
`;

forEachDialect('durable timers', (dialect) => {
  const open: World[] = [];
  const extra: Gateway[] = [];
  afterEach(async () => {
    for (const g of extra.splice(0)) await g.close();
    for (const w of open.splice(0)) await w.close();
  });
  const sweep = async (gw: Gateway) => {
    await gw.scheduler.tick();
    await gw.scheduler.tick();
  };

  test('escalation levels fire in order on the fake clock, then remind once more, then stop', async () => {
    const clock = new FakeClock();
    const w = await world(dialect, { clock, config: withPolicy(REMINDERS) });
    open.push(w);
    const { body: a } = await propose(w, prodDeploy);
    for (let i = 0; i < 6; i++) {
      await clock.advance(10 * MIN);
      await sweep(w.gw);
    }
    const fired = (await auditRows(w, a.id)).filter((e) => e.event === 'action.escalated').map((e) => JSON.parse(e.data));
    assert.deepEqual(
      fired.map((d) => [d.level, d.round, d.reminder]),
      [
        [1, 1, false],
        [2, 1, false],
        [1, 2, true],
        [2, 2, true],
      ],
    );
    const now = (await call(w, 'GET', `/v1/actions/${a.id}`, w.keys.ada)).body;
    assert.deepEqual(now.workflow.stage.approvers.groups, ['oncall', 'leads', 'managers']);
    assert.equal(
      await w.gw.deps.db.read
        .selectFrom('timers')
        .select('id')
        .execute()
        .then((r) => r.length),
      0,
      'nothing left to fire',
    );
  });

  test('a deadline that came due while the gateway was down fires when it starts again', async () => {
    const clock = new FakeClock();
    const w = await world(dialect, { clock, config: withPolicy(EXAMPLE) });
    open.push(w);
    const { body: a } = await propose(w, prodDeploy);
    await w.gw.close();
    await clock.advance(20 * MIN);
    const again = await startGateway(w.gw.deps.config, {
      listen: false,
      clock,
      logger: pino({ level: 'silent' }),
      ...(w.env.schema ? { schema: w.env.schema } : {}),
    });
    extra.push(again);
    await sweep(again);
    const events = (await again.deps.db.read.selectFrom('audit_log').select('event').where('action_id', '=', a.id).execute()).map(
      (e) => e.event,
    );
    assert.deepEqual(events, ['action.created', 'action.stage_timed_out', 'action.escalated']);
    // world.close() closes the first gateway again; that is a no-op.
  });
});

describe('durable timers across processes [postgres]', () => {
  test('two gateways sweeping one database fire each deadline exactly once', async () => {
    const clock = new FakeClock();
    const w = await world('postgres', { clock, config: withPolicy(REMINDERS) });
    const b = await startGateway(w.gw.deps.config, {
      listen: false,
      clock,
      logger: pino({ level: 'silent' }),
      schema: w.env.schema as string,
    });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 30; i++) ids.push((await propose(w, { ...prodDeploy, arguments: { i } })).body.id);
      for (let step = 0; step < 4; step++) {
        await clock.advance(10 * MIN);
        await Promise.all([w.gw.scheduler.tick(), b.scheduler.tick(), w.gw.scheduler.tick(), b.scheduler.tick()]);
      }
      await Promise.all([w.gw.scheduler.tick(), b.scheduler.tick()]);
      const rows = await auditRows(w);
      for (const id of ids) {
        const fired = rows.filter((e) => e.action_id === id && e.event === 'action.escalated').length;
        assert.equal(fired, 4, `action ${id} escalated exactly four times`);
      }
    } finally {
      await b.close();
      await w.close();
    }
  });
});
