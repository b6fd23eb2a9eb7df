import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import pino from 'pino';
import type { Config } from '../src/config/schema.js';
import { type Gateway, startGateway } from '../src/gateway.js';
import { FakeClock } from '../src/lib/clock.js';
import { type ApiResponse, auditRows, call, forEachDialect, propose, review, trustingAnnotationsOf, type World, world } from './helpers.js';

const HOUR = 3_600_000;
const EXPIRED_REASON = 'No reviewer decided before the deadline; the action expired and was not approved.';

/** Polls without asserting how long anything took. */
async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.fail(`never happened: ${what}`);
}

/** One full expiry pass at the clock's current time (a pass already in flight may have started earlier). */
async function sweep(w: World): Promise<void> {
  await w.gw.scheduler.tick();
  await w.gw.scheduler.tick();
}

const get = (w: World, id: string, key = w.keys.alice) => call(w, 'GET', `/v1/actions/${id}`, key);
const statusOf = async (w: World, id: string) => (await get(w, id)).body.status as string;

function track(p: Promise<ApiResponse>) {
  const t = { done: false, result: p };
  void p.then(() => {
    t.done = true;
  });
  return t;
}

forEachDialect('expiry', (dialect) => {
  const worlds: World[] = [];
  const extra: Gateway[] = [];
  async function fresh(config?: (c: Config) => Config): Promise<{ w: World; clock: FakeClock }> {
    const clock = new FakeClock();
    const w = await world(dialect, { clock, ...(config ? { config } : {}) });
    worlds.push(w);
    return { w, clock };
  }
  afterEach(async () => {
    for (const g of extra.splice(0)) await g.close();
    for (const w of worlds.splice(0)) await w.close();
  });

  test('a pending action expires after the default hour, not one millisecond sooner, and is never approved', async () => {
    const { w, clock } = await fresh();
    const { body: a } = await propose(w);
    assert.equal(a.status, 'pending');
    assert.equal(Date.parse(a.expires_at) - Date.parse(a.created_at), HOUR);

    await clock.advance(HOUR - 1);
    await sweep(w);
    assert.equal(await statusOf(w, a.id), 'pending', 'one ms before the deadline it is still pending');

    await clock.advance(1);
    await sweep(w);
    const r = await get(w, a.id, w.keys.agent);
    assert.equal(r.body.status, 'expired');
    assert.equal(r.body.reason, EXPIRED_REASON, 'the agent can read why');
    assert.deepEqual(r.body.decided_by, { type: 'system', id: null, label: 'expiry' });
    assert.equal(r.body.decided_at, a.expires_at);
    assert.equal(r.body.version, 2);
    assert.deepEqual(r.body.arguments, a.arguments);

    const audit = await auditRows(w, a.id);
    assert.deepEqual(
      audit.map((e) => e.event),
      ['action.created', 'action.expired'],
    );
    const expired = audit[1];
    assert.equal(expired?.actor_type, 'system');
    assert.deepEqual(JSON.parse(expired?.data ?? '{}'), { expires_at: Date.parse(a.expires_at) });
  });

  test('the scheduler expires an action at its deadline on its own, without being asked', async () => {
    const { w, clock } = await fresh();
    const { body: a } = await propose(w);
    await clock.advance(HOUR);
    // Only the scheduler's own timers run here; advance(0) fires whatever it set for "now".
    await eventually('the action expires', async () => {
      await clock.advance(0);
      return (await statusOf(w, a.id)) === 'expired';
    });
  });

  test('the default expiry is configurable', async () => {
    const { w, clock } = await fresh((c) => ({ ...c, review: { defaultExpiryMs: 60_000 } }));
    const { body: a } = await propose(w);
    assert.equal(Date.parse(a.expires_at) - Date.parse(a.created_at), 60_000);
    await clock.advance(59_999);
    await sweep(w);
    assert.equal(await statusOf(w, a.id), 'pending');
    await clock.advance(1);
    await sweep(w);
    assert.equal(await statusOf(w, a.id), 'expired');
  });

  test('an action approved at once by a rule has no review deadline; once redeemed it never expires', async () => {
    const { w, clock } = await fresh(trustingAnnotationsOf('deployer'));
    const { body: a } = await propose(w, { annotations: { readOnlyHint: true } });
    assert.equal(a.status, 'approved');
    assert.equal(a.expires_at, null);
    const run = { id: a.id, tool: a.tool, arguments: a.arguments, resource: a.resource };
    assert.equal((await call(w, 'POST', '/v1/receipts/redeem', w.keys.agent, { receipt: a.receipt, action: run })).status, 200);
    await clock.advance(2 * HOUR);
    await sweep(w);
    assert.equal(await statusOf(w, a.id), 'approved');
  });

  test('a review, cancel or result after expiry is a 409 and changes nothing', async () => {
    const { w, clock } = await fresh();
    const { body: a } = await propose(w);
    await clock.advance(HOUR);
    await sweep(w);
    const before = await auditRows(w, a.id);
    for (const r of [
      await review(w, a.id, w.keys.alice, { decision: 'approve' }),
      await review(w, a.id, w.keys.carol, { decision: 'deny', reason: 'late' }),
      await call(w, 'POST', `/v1/actions/${a.id}/cancel`, w.keys.agent, {}),
      await call(w, 'POST', `/v1/actions/${a.id}/result`, w.keys.agent, { outcome: 'succeeded' }),
    ]) {
      assert.equal(r.status, 409);
      assert.equal(r.body.error.code, 'conflict');
      assert.equal(r.body.error.details.status, 'expired');
    }
    const now = await get(w, a.id);
    assert.equal(now.body.status, 'expired');
    assert.equal(now.body.version, 2);
    assert.equal(now.body.reviews.length, 0);
    assert.equal((await auditRows(w, a.id)).length, before.length);
  });

  test('once the deadline has passed nobody can approve, even before the scheduler has run', async () => {
    const { w, clock } = await fresh();
    // A stopped scheduler stands in for one that is slow, busy or restarting.
    await w.gw.scheduler.stop();
    const { body: a } = await propose(w);
    await clock.advance(HOUR);
    const late = await review(w, a.id, w.keys.alice, { decision: 'approve' });
    assert.equal(late.status, 409);
    assert.equal(late.body.error.code, 'conflict');
    assert.equal((await call(w, 'POST', `/v1/actions/${a.id}/cancel`, w.keys.agent, {})).status, 409);
    assert.deepEqual(
      (await auditRows(w, a.id)).map((e) => e.event),
      ['action.created'],
    );
    await w.gw.scheduler.tick();
    const r = await get(w, a.id);
    assert.equal(r.body.status, 'expired');
    assert.equal(r.body.decided_by.label, 'expiry');
  });

  test('an approval that commits before the deadline wins, and the later expiry changes nothing', async () => {
    const { w, clock } = await fresh();
    const { body: a } = await propose(w);
    await clock.advance(HOUR - 1);
    const ok = await review(w, a.id, w.keys.alice, { decision: 'approve', reason: 'just in time' });
    assert.equal(ok.status, 200);
    const run = { id: a.id, tool: a.tool, arguments: a.arguments, resource: a.resource };
    assert.equal((await call(w, 'POST', '/v1/receipts/redeem', w.keys.agent, { receipt: ok.body.receipt, action: run })).status, 200);
    await clock.advance(1);
    await sweep(w);
    await clock.advance(HOUR);
    await sweep(w);
    const r = await get(w, a.id);
    assert.equal(r.body.status, 'approved');
    assert.equal(r.body.reason, 'just in time');
    assert.equal(r.body.version, 3, 'approved, then redeemed');
    assert.deepEqual(r.body.decided_by, ok.body.decided_by);
    assert.ok(!(await auditRows(w, a.id)).some((e) => e.event === 'action.expired'));
    // The agent can still run it and report.
    assert.equal((await call(w, 'POST', `/v1/actions/${a.id}/result`, w.keys.agent, { outcome: 'succeeded' })).status, 200);
  });

  test('an approval racing the expiry at the deadline ends in exactly one final state with one decision audited', async () => {
    const { w, clock } = await fresh();
    for (let round = 0; round < 8; round++) {
      const { body: a } = await propose(w);
      await clock.advance(HOUR - 1);
      const [r] = await Promise.all([
        review(w, a.id, w.keys.alice, { decision: 'approve' }),
        (async () => {
          await clock.advance(1);
          await sweep(w);
        })(),
      ]);
      await sweep(w);
      const final = await get(w, a.id);
      const decisions = (await auditRows(w, a.id)).filter((e) => e.event === 'action.approved' || e.event === 'action.expired');
      assert.equal(decisions.length, 1, `round ${round}`);
      if (r.status === 200) {
        assert.equal(final.body.status, 'approved');
        assert.equal(decisions[0]?.event, 'action.approved');
      } else {
        assert.equal(r.status, 409);
        assert.equal(final.body.status, 'expired');
        assert.equal(decisions[0]?.event, 'action.expired');
      }
      assert.equal(final.body.version, 2);
    }
  });

  test('a waiting agent is answered with the expiry as soon as it happens', async () => {
    const { w, clock } = await fresh((c) => ({ ...c, review: { defaultExpiryMs: 30_000 } }));
    const { body: a } = await propose(w);
    const held = track(call(w, 'GET', `/v1/actions/${a.id}?wait=60`, w.keys.agent));
    await clock.advance(29_999);
    await sweep(w);
    assert.equal(held.done, false);
    await clock.advance(1);
    await sweep(w);
    const r = await held.result;
    assert.equal(r.body.status, 'expired');
    assert.equal(r.body.reason, EXPIRED_REASON);
  });

  test('a restarted gateway expires the actions that came due while it was down, and only those', async () => {
    const { w, clock } = await fresh();
    const { body: due } = await propose(w);
    await clock.advance(HOUR / 2);
    const { body: later } = await propose(w);
    await w.gw.close();

    // Down for 40 minutes: `due` passes its deadline, `later` does not.
    await clock.advance((40 * HOUR) / 60);
    const gw = await startGateway(w.env.config, {
      listen: false,
      logger: pino({ level: 'silent' }),
      clock,
      ...(w.env.schema ? { schema: w.env.schema } : {}),
    });
    extra.push(gw);
    const w2: World = { ...w, gw };
    // Joins the pass the scheduler started on its own at start-up.
    await gw.scheduler.tick();
    const r = await get(w2, due.id, w.keys.agent);
    assert.equal(r.body.status, 'expired');
    assert.equal(r.body.reason, EXPIRED_REASON);
    assert.equal(await statusOf(w2, later.id), 'pending');
    assert.deepEqual(
      (await auditRows(w2, due.id)).map((e) => e.event),
      ['action.created', 'action.expired'],
    );

    // The new gateway keeps the remaining deadline.
    await clock.advance(HOUR / 2 - (10 * HOUR) / 60 - 1);
    await sweep(w2);
    assert.equal(await statusOf(w2, later.id), 'pending');
    await clock.advance(1);
    await sweep(w2);
    assert.equal(await statusOf(w2, later.id), 'expired');

    const { verifyAudit } = await import('../src/domain/audit/verify-audit.js');
    const v = await verifyAudit(gw.deps.db.read);
    assert.equal(v.ok, true, v.firstBad?.problem);
  });
});
