import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { disableUser } from '../src/domain/identities/disable-user.js';
import { FakeClock } from '../src/lib/clock.js';
import { ADMIN, addPeople, auditRows, call, forEachDialect, type World, world } from './helpers.js';

const HOUR = 3600_000;
const HALF = HOUR / 2;
const DAY = 24 * HOUR;

forEachDialect('delegations: naming a delegate, listing, revoking', (dialect) => {
  const open: World[] = [];
  afterEach(async () => {
    for (const w of open.splice(0)) await w.close();
  });
  async function setup() {
    const clock = new FakeClock();
    const w = await world(dialect, { clock });
    open.push(w);
    const keys = await addPeople(w, [{ email: 'xavier@example.com' }, { email: 'yara@example.com', groups: ['sre'] }]);
    const at = (ms: number) => new Date(clock.now() + ms).toISOString();
    return { w, clock, at, x: keys['xavier@example.com'] as string, y: keys['yara@example.com'] as string };
  }
  const audit = async (w: World, event: string) =>
    (await auditRows(w)).filter((e) => e.event === event).map((e) => ({ actor: e.actor_id, data: JSON.parse(e.data) }));
  const count = async (w: World) => (await w.gw.deps.db.read.selectFrom('delegations').select('id').execute()).length;

  test('a person names a delegate for a period: listed on both sides, in acting_for, and audited in the same transaction', async () => {
    const { w, at, x, y } = await setup();
    const ends = at(7 * DAY);
    const made = await call(w, 'POST', '/v1/me/delegations', y, {
      delegate: 'Xavier@Example.com',
      ends_at: ends,
      reason: 'on leave\nback Monday',
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.equal(made.body.delegator.email, 'yara@example.com');
    assert.equal(made.body.delegate.email, 'xavier@example.com');
    assert.equal(made.body.state, 'active');
    assert.equal(made.body.starts_at, at(0), 'starts now by default');
    assert.equal(made.body.ends_at, ends);
    assert.equal(made.body.reason, 'on leave\nback Monday', 'stored and returned exactly');
    assert.equal(made.body.created_by, 'yara@example.com');

    const mine = await call(w, 'GET', '/v1/me/delegations', y);
    assert.deepEqual(
      mine.body.given.map((d: { id: string }) => d.id),
      [made.body.id],
    );
    assert.deepEqual(mine.body.held, []);
    const theirs = await call(w, 'GET', '/v1/me/delegations', x);
    assert.deepEqual(
      theirs.body.held.map((d: { id: string }) => d.id),
      [made.body.id],
    );
    const acting = [{ delegation_id: made.body.id, id: made.body.delegator.id, email: 'yara@example.com', until: ends }];
    assert.deepEqual(theirs.body.acting_for, acting);
    assert.deepEqual((await call(w, 'GET', '/v1/me', x)).body.acting_for, acting, 'GET /v1/me says whom I may vote for now');
    assert.deepEqual((await call(w, 'GET', '/v1/me', y)).body.acting_for, []);

    const entries = await audit(w, 'delegation.created');
    assert.equal(entries.length, 1);
    assert.equal(entries[0]?.actor, made.body.delegator.id);
    assert.deepEqual(entries[0]?.data, {
      delegation_id: made.body.id,
      delegator: 'yara@example.com',
      delegate: 'xavier@example.com',
      starts_at: at(0),
      ends_at: ends,
      reason: 'on leave\nback Monday',
      by: 'yara@example.com',
    });
  });

  test('a delegation planned ahead is upcoming until it starts, then active, then ended', async () => {
    const { w, clock, at, x, y } = await setup();
    const made = await call(w, 'POST', '/v1/me/delegations', y, {
      delegate: 'xavier@example.com',
      starts_at: at(HALF),
      ends_at: at(HOUR),
    });
    assert.equal(made.body.state, 'upcoming');
    assert.deepEqual((await call(w, 'GET', '/v1/me', x)).body.acting_for, []);
    await clock.advance(HALF);
    assert.equal((await call(w, 'GET', '/v1/me/delegations', x)).body.held[0].state, 'active');
    assert.equal((await call(w, 'GET', '/v1/me', x)).body.acting_for.length, 1);
    await clock.advance(HALF);
    assert.equal((await call(w, 'GET', '/v1/me/delegations', x)).body.held[0].state, 'ended', 'ends_at is exclusive');
    assert.deepEqual((await call(w, 'GET', '/v1/me', x)).body.acting_for, []);
  });

  test('refused, with nothing written: yourself, a disabled person, a viewer either side, a bad period, an unknown person', async () => {
    const { w, at, y } = await setup();
    await addPeople(w, [{ email: 'gone@example.com' }]);
    await disableUser(w.gw.deps, ADMIN, 'gone@example.com');
    const tomorrow = at(DAY);
    const cases: [string, string, Record<string, unknown>, number, RegExp][] = [
      ['yourself', y, { delegate: 'yara@example.com', ends_at: tomorrow }, 400, /yourself/],
      ['a disabled delegate', y, { delegate: 'gone@example.com', ends_at: tomorrow }, 409, /disabled/],
      ['a viewer as delegate', y, { delegate: 'victor@example.com', ends_at: tomorrow }, 400, /viewer.*cannot review/],
      ['from a viewer', w.keys.victor, { delegate: 'xavier@example.com', ends_at: tomorrow }, 400, /viewers have no vote/],
      ['an end in the past', y, { delegate: 'xavier@example.com', ends_at: at(-1) }, 400, /future/],
      ['an end before the start', y, { delegate: 'xavier@example.com', starts_at: at(2 * DAY), ends_at: tomorrow }, 400, /after starts_at/],
      ['more than 90 days', y, { delegate: 'xavier@example.com', ends_at: at(91 * DAY) }, 400, /90 days/],
      ['no end', y, { delegate: 'xavier@example.com' }, 400, /ends_at/],
      ['a time without a zone', y, { delegate: 'xavier@example.com', ends_at: tomorrow.replace('Z', '') }, 400, /ends_at/],
      ['an unknown person', y, { delegate: 'nobody@example.com', ends_at: tomorrow }, 404, /no user/],
    ];
    for (const [what, key, body, status, message] of cases) {
      const r = await call(w, 'POST', '/v1/me/delegations', key, body);
      assert.equal(r.status, status, `${what}: ${JSON.stringify(r.body)}`);
      assert.match(r.body.error.message, message, what);
    }
    assert.equal(await count(w), 0);
    assert.deepEqual(await audit(w, 'delegation.created'), []);
  });

  test('a non-admin cannot create a delegation for someone else; an admin can, and the delegator may end it', async () => {
    const { w, at, x, y } = await setup();
    const body = { delegator: 'yara@example.com', delegate: 'xavier@example.com', ends_at: at(DAY) };
    const viaMe = await call(w, 'POST', '/v1/me/delegations', w.keys.alice, body);
    assert.equal(viaMe.status, 400, 'my delegations take no delegator');
    const viaAdmin = await call(w, 'POST', '/v1/admin/delegations', w.keys.alice, body);
    assert.equal(viaAdmin.status, 403);
    assert.equal(viaAdmin.body.error.code, 'forbidden');
    assert.equal((await call(w, 'GET', '/v1/admin/delegations', x)).status, 403);
    assert.equal(await count(w), 0);

    const made = await call(w, 'POST', '/v1/admin/delegations', w.keys.ada, body);
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.equal(made.body.created_by, 'ada@example.com');
    assert.equal(made.body.delegator.email, 'yara@example.com');
    const [entry] = await audit(w, 'delegation.created');
    assert.equal(entry?.data.by, 'ada@example.com');
    const listed = await call(w, 'GET', '/v1/admin/delegations', w.keys.ada);
    assert.deepEqual(
      listed.body.items.map((d: { id: string }) => d.id),
      [made.body.id],
    );
    assert.equal((await call(w, 'POST', `/v1/me/delegations/${made.body.id}/revoke`, y)).status, 200);
  });

  test('the delegator revokes: effective at once, audited; a second revoke is a conflict; the delegate and strangers cannot', async () => {
    const { w, at, x, y } = await setup();
    const made = await call(w, 'POST', '/v1/me/delegations', y, { delegate: 'xavier@example.com', ends_at: at(DAY) });
    const url = `/v1/me/delegations/${made.body.id}/revoke`;
    const byDelegate = await call(w, 'POST', url, x);
    assert.equal(byDelegate.status, 403);
    assert.match(byDelegate.body.error.message, /only the person who delegated/);
    assert.equal((await call(w, 'POST', url, w.keys.carol)).status, 404, 'a stranger is told it does not exist');
    const done = await call(w, 'POST', url, y);
    assert.equal(done.status, 200);
    assert.equal(done.body.state, 'revoked');
    assert.equal(done.body.revoked_by, 'yara@example.com');
    assert.deepEqual((await call(w, 'GET', '/v1/me', x)).body.acting_for, []);
    const again = await call(w, 'POST', url, y);
    assert.equal(again.status, 409);
    assert.match(again.body.error.message, /already been revoked/);
    const entries = await audit(w, 'delegation.revoked');
    assert.equal(entries.length, 1);
    assert.deepEqual(entries[0]?.data, {
      delegation_id: made.body.id,
      delegator: 'yara@example.com',
      delegate: 'xavier@example.com',
      was: 'active',
      by: 'yara@example.com',
    });
  });

  test('an admin may revoke anyone’s delegation; one that already ended cannot be revoked', async () => {
    const { w, clock, at, y } = await setup();
    const a = await call(w, 'POST', '/v1/me/delegations', y, { delegate: 'xavier@example.com', ends_at: at(HOUR) });
    const b = await call(w, 'POST', '/v1/me/delegations', y, { delegate: 'carol@example.com', ends_at: at(DAY) });
    assert.equal((await call(w, 'POST', `/v1/me/delegations/${b.body.id}/revoke`, w.keys.ada)).body.revoked_by, 'ada@example.com');
    await clock.advance(HOUR);
    const late = await call(w, 'POST', `/v1/me/delegations/${a.body.id}/revoke`, y);
    assert.equal(late.status, 409);
    assert.match(late.body.error.message, /already ended/);
  });

  test('two concurrent revokes of one delegation: one wins, the other is a conflict, one audit entry', async () => {
    const { w, at, y } = await setup();
    const made = await call(w, 'POST', '/v1/me/delegations', y, { delegate: 'xavier@example.com', ends_at: at(DAY) });
    const url = `/v1/me/delegations/${made.body.id}/revoke`;
    const results = await Promise.all([call(w, 'POST', url, y), call(w, 'POST', url, w.keys.ada)]);
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 409]);
    assert.equal((await audit(w, 'delegation.revoked')).length, 1);
  });

  test('a second delegation to the same person overlapping one in force is a conflict, even when both are sent at once', async () => {
    const { w, at, y } = await setup();
    const body = { delegate: 'xavier@example.com', ends_at: at(DAY) };
    const results = await Promise.all([call(w, 'POST', '/v1/me/delegations', y, body), call(w, 'POST', '/v1/me/delegations', y, body)]);
    assert.deepEqual(results.map((r) => r.status).sort(), [201, 409]);
    assert.equal(await count(w), 1);
    const later = await call(w, 'POST', '/v1/me/delegations', y, {
      delegate: 'xavier@example.com',
      starts_at: at(DAY),
      ends_at: at(2 * DAY),
    });
    assert.equal(later.status, 201, 'back to back is no overlap');
    assert.equal((await call(w, 'POST', '/v1/me/delegations', y, { delegate: 'carol@example.com', ends_at: at(DAY) })).status, 201);
  });

  test('agents have no vote to delegate', async () => {
    const { w, at } = await setup();
    const r = await call(w, 'POST', '/v1/me/delegations', w.keys.agent, { delegate: 'xavier@example.com', ends_at: at(DAY) });
    assert.equal(r.status, 403);
    assert.match(r.body.error.message, /agents have no vote/);
  });
});
