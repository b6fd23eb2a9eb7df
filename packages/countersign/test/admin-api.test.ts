import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import pino from 'pino';
import { listUsers } from '../src/domain/identities/list-users.js';
import { setUserRole } from '../src/domain/identities/set-user-role.js';
import { startGateway } from '../src/gateway.js';
import { addPeople, auditRows, call, forEachDialect, propose, type World, world } from './helpers.js';

/** The newest audit entry: every admin change writes one, naming the admin who made it. */
async function lastAudit(w: World) {
  const last = (await auditRows(w)).at(-1);
  assert.ok(last);
  return { event: last.event, actor: [last.actor_type, last.actor_id], data: JSON.parse(last.data) };
}

forEachDialect('admin API', (dialect) => {
  const open: World[] = [];
  afterEach(async () => {
    for (const w of open.splice(0)) await w.close();
  });
  async function setup() {
    const w = await world(dialect);
    open.push(w);
    const adaId = (await call(w, 'GET', '/v1/me', w.keys.ada)).body.id as string;
    return { w, adaId };
  }

  test('an admin creates a person without a key, audited; a second time is a conflict; a reviewer and nobody are refused', async () => {
    const { w, adaId } = await setup();
    const made = await call(w, 'POST', '/v1/admin/users', w.keys.ada, { email: 'Kim@Example.com', role: 'reviewer', groups: ['sre'] });
    assert.equal(made.status, 201);
    assert.deepEqual(
      [made.body.user.email, made.body.user.groups, made.body.user.active_keys, made.body.key],
      ['kim@example.com', ['sre'], 0, null],
    );
    const a = await lastAudit(w);
    assert.deepEqual([a.event, a.actor, a.data.email], ['user.created', ['user', adaId], 'kim@example.com']);
    assert.equal((await call(w, 'POST', '/v1/admin/users', w.keys.ada, { email: 'kim@example.com' })).status, 409);
    assert.equal((await call(w, 'POST', '/v1/admin/users', w.keys.alice, { email: 'x@example.com' })).status, 403);
    assert.equal((await call(w, 'POST', '/v1/admin/users', undefined, { email: 'x@example.com' })).status, 401);
    assert.equal((await call(w, 'POST', '/v1/admin/users', w.keys.agent, { email: 'x@example.com' })).status, 403);
    assert.equal((await call(w, 'POST', '/v1/admin/users', w.keys.ada, { email: 'x@example.com', role: 'root' })).status, 400);
  });

  test('a person created with issue_key gets a working key, shown once', async () => {
    const { w } = await setup();
    const made = await call(w, 'POST', '/v1/admin/users', w.keys.ada, { email: 'lee@example.com', issue_key: true });
    assert.equal(made.status, 201);
    assert.equal(made.body.user.active_keys, 1);
    assert.equal((await call(w, 'GET', '/v1/me', made.body.key.api_key)).body.email, 'lee@example.com');
    const listed = await call(w, 'GET', '/v1/admin/keys?of=lee@example.com', w.keys.ada);
    assert.deepEqual(
      listed.body.items.map((k: { prefix: string }) => k.prefix),
      [made.body.key.key_prefix],
    );
    assert.ok(!JSON.stringify(listed.body).includes(made.body.key.api_key), 'never a secret in a listing');
  });

  test('role and group changes by id or email are audited, apply on the next request, and a no-op is a conflict', async () => {
    const { w, adaId } = await setup();
    const role = await call(w, 'POST', `/v1/admin/users/${w.ids.alice}/role`, w.keys.ada, { role: 'viewer' });
    assert.deepEqual([role.status, role.body.role], [200, 'viewer']);
    assert.deepEqual((await lastAudit(w)).actor, ['user', adaId]);
    assert.equal((await call(w, 'GET', '/v1/me', w.keys.alice)).body.role, 'viewer');
    assert.equal((await call(w, 'POST', '/v1/admin/users/alice@example.com/role', w.keys.ada, { role: 'viewer' })).status, 409);
    const groups = await call(w, 'POST', '/v1/admin/users/alice@example.com/groups', w.keys.ada, { groups: ['db', 'sre'] });
    assert.deepEqual([groups.status, groups.body.groups], [200, ['db', 'sre']]);
    assert.equal((await lastAudit(w)).event, 'user.groups_changed');
    assert.equal((await call(w, 'POST', '/v1/admin/users/alice@example.com/groups', w.keys.ada, { groups: ['sre', 'db'] })).status, 409);
    assert.equal((await call(w, 'POST', '/v1/admin/users/nobody@example.com/role', w.keys.ada, { role: 'admin' })).status, 404);
    assert.equal((await call(w, 'POST', '/v1/admin/users/alice@example.com/role', w.keys.carol, { role: 'admin' })).status, 403);
    const groupList = await call(w, 'GET', '/v1/admin/groups', w.keys.ada);
    assert.deepEqual(
      groupList.body.items.map((g: { name: string; members: string[] }) => [g.name, g.members]),
      [
        ['db', ['alice@example.com']],
        ['sre', ['alice@example.com']],
      ],
    );
  });

  test('disabling a person over HTTP refuses their key at once and is audited; enabling undoes it; repeats are conflicts', async () => {
    const { w } = await setup();
    const off = await call(w, 'POST', '/v1/admin/users/carol@example.com/disable', w.keys.ada);
    assert.deepEqual([off.status, off.body.disabled], [200, true]);
    assert.equal((await lastAudit(w)).event, 'user.disabled');
    assert.equal((await call(w, 'GET', '/v1/me', w.keys.carol)).status, 401);
    assert.equal((await call(w, 'POST', '/v1/admin/users/carol@example.com/disable', w.keys.ada)).status, 409);
    assert.equal((await call(w, 'POST', '/v1/admin/users/carol@example.com/enable', w.keys.ada)).status, 200);
    assert.equal((await lastAudit(w)).event, 'user.enabled');
    assert.equal((await call(w, 'GET', '/v1/me', w.keys.carol)).status, 200);
    assert.equal((await call(w, 'POST', '/v1/admin/users/carol@example.com/enable', w.keys.ada)).status, 409);
    assert.equal((await call(w, 'POST', '/v1/admin/users/carol@example.com/disable', w.keys.alice)).status, 403);
  });

  test('the last enabled admin can be neither demoted nor disabled; with a second admin either can', async () => {
    const { w } = await setup();
    const before = (await auditRows(w)).length;
    const demote = await call(w, 'POST', '/v1/admin/users/ada@example.com/role', w.keys.ada, { role: 'reviewer' });
    assert.equal(demote.status, 409);
    assert.match(demote.body.error.message, /last enabled admin/);
    assert.equal((await call(w, 'POST', '/v1/admin/users/ada@example.com/disable', w.keys.ada)).status, 409);
    assert.equal((await auditRows(w)).length, before, 'a refused change writes nothing');
    assert.equal((await call(w, 'GET', '/v1/me', w.keys.ada)).body.role, 'admin');
    // A disabled admin does not count: enabling nobody else leaves ada the last.
    const keys = await addPeople(w, [{ email: 'root2@example.com', role: 'admin' }]);
    await call(w, 'POST', '/v1/admin/users/root2@example.com/disable', w.keys.ada);
    assert.equal((await call(w, 'POST', '/v1/admin/users/ada@example.com/role', w.keys.ada, { role: 'reviewer' })).status, 409);
    await call(w, 'POST', '/v1/admin/users/root2@example.com/enable', w.keys.ada);
    assert.equal(
      (await call(w, 'POST', '/v1/admin/users/ada@example.com/role', keys['root2@example.com'], { role: 'reviewer' })).status,
      200,
    );
    assert.equal((await call(w, 'POST', '/v1/admin/users/root2@example.com/disable', keys['root2@example.com'])).status, 409);
  });

  test('two admins demoting each other at the same moment leave exactly one admin', async () => {
    const { w } = await setup();
    const keys = await addPeople(w, [{ email: 'root2@example.com', role: 'admin' }]);
    const [a, b] = await Promise.all([
      call(w, 'POST', '/v1/admin/users/root2@example.com/role', w.keys.ada, { role: 'reviewer' }),
      call(w, 'POST', '/v1/admin/users/ada@example.com/role', keys['root2@example.com'], { role: 'reviewer' }),
    ]);
    const statuses = [a.status, b.status].sort();
    // The loser is refused as the last admin (409), or, if the winner demoted it first, it is no longer an admin (403).
    assert.equal(statuses.filter((s) => s === 200).length, 1, `one wins: ${statuses}`);
    const remaining = (await listUsers(w.gw.deps)).filter((u) => u.role === 'admin' && !u.disabled);
    assert.equal(remaining.length, 1);
  });

  test('two gateways on one database demoting the only two admins at once leave exactly one, every time', async () => {
    const { w } = await setup();
    // A second gateway has its own committer, so the two changes are truly concurrent transactions.
    const other = await startGateway(w.env.config, {
      listen: false,
      logger: pino({ level: 'silent' }),
      ...(w.env.schema ? { schema: w.env.schema } : {}),
    });
    try {
      for (let round = 0; round < 5; round++) {
        const email = `root${round}@example.com`;
        await addPeople(w, [{ email, role: 'admin' }]);
        const results = await Promise.allSettled([
          setUserRole(w.gw.deps, { type: 'admin', id: 'a' }, { email: 'ada@example.com', role: 'reviewer' }),
          setUserRole(other.deps, { type: 'admin', id: 'b' }, { email, role: 'reviewer' }),
        ]);
        const admins = (await listUsers(w.gw.deps)).filter((u) => u.role === 'admin' && !u.disabled).map((u) => u.email);
        assert.equal(admins.length, 1, `round ${round}: ${admins} (${results.map((r) => r.status)})`);
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
        // Put ada back as the only admin for the next round.
        if (admins[0] !== 'ada@example.com') {
          await setUserRole(w.gw.deps, { type: 'admin', id: 'a' }, { email: 'ada@example.com', role: 'admin' });
          await setUserRole(w.gw.deps, { type: 'admin', id: 'a' }, { email, role: 'reviewer' });
        }
      }
    } finally {
      await other.close();
    }
  });

  test('agents are created with a key, disabled with their pending actions cancelled, re-enabled, and get new keys; all audited', async () => {
    const { w, adaId } = await setup();
    const made = await call(w, 'POST', '/v1/admin/agents', w.keys.ada, {
      name: 'builder',
      owner: 'bob@example.com',
      labels: { team: 'ci' },
    });
    assert.equal(made.status, 201);
    assert.deepEqual([made.body.agent.owner, made.body.agent.labels], ['bob@example.com', { team: 'ci' }]);
    assert.deepEqual((await lastAudit(w)).actor, ['user', adaId]);
    assert.equal((await call(w, 'POST', '/v1/admin/agents', w.keys.ada, { name: 'builder', owner: 'bob@example.com' })).status, 409);
    assert.equal((await call(w, 'POST', '/v1/admin/agents', w.keys.ada, { name: 'x', owner: 'nobody@example.com' })).status, 404);
    const pending = await propose(w, {}, made.body.key.api_key);
    assert.equal(pending.body.status, 'pending');
    const off = await call(w, 'POST', '/v1/admin/agents/builder/disable', w.keys.ada, { reason: 'rebuilt' });
    assert.deepEqual([off.status, off.body.agent.disabled, off.body.cancelled], [200, true, [pending.body.id]]);
    assert.equal((await call(w, 'GET', '/v1/me', made.body.key.api_key)).status, 401);
    assert.equal((await call(w, 'POST', '/v1/admin/agents/builder/disable', w.keys.ada, {})).status, 409);
    assert.equal((await call(w, 'POST', '/v1/admin/agents/builder/enable', w.keys.ada)).status, 200);
    assert.equal((await lastAudit(w)).event, 'agent.enabled');
    const key = await call(w, 'POST', '/v1/admin/agents/builder/keys', w.keys.ada, { label: 'rotation' });
    assert.equal(key.status, 201);
    assert.equal((await call(w, 'GET', '/v1/me', key.body.api_key)).body.name, 'builder');
    assert.deepEqual((await lastAudit(w)).data.label, 'rotation');
    assert.equal((await call(w, 'POST', '/v1/admin/agents/nobody/keys', w.keys.ada, {})).status, 404);
    assert.equal((await call(w, 'POST', '/v1/admin/agents/builder/disable', w.keys.bob, {})).status, 403);
  });

  test('revoking a key over HTTP refuses it on the next request, is audited, and a second revoke is a conflict', async () => {
    const { w } = await setup();
    const issued = await call(w, 'POST', '/v1/admin/users/carol@example.com/keys', w.keys.ada, {});
    assert.equal(issued.status, 201);
    assert.equal((await lastAudit(w)).event, 'key.created');
    const revoked = await call(w, 'POST', `/v1/admin/keys/${issued.body.key_prefix}/revoke`, w.keys.ada);
    assert.deepEqual([revoked.status, revoked.body.remaining_keys], [200, 1]);
    assert.equal((await lastAudit(w)).event, 'key.revoked');
    assert.equal((await call(w, 'GET', '/v1/me', issued.body.api_key)).status, 401);
    assert.equal((await call(w, 'GET', '/v1/me', w.keys.carol)).status, 200, 'her other key still works');
    assert.equal((await call(w, 'POST', `/v1/admin/keys/${issued.body.key_prefix}/revoke`, w.keys.ada)).status, 409);
    assert.equal((await call(w, 'POST', '/v1/admin/keys/cs_000000000000/revoke', w.keys.ada)).status, 404);
    assert.equal((await call(w, 'POST', '/v1/admin/keys/nonsense/revoke', w.keys.ada)).status, 400);
    assert.equal((await call(w, 'POST', `/v1/admin/keys/${issued.body.key_prefix}/revoke`, w.keys.carol)).status, 403);
  });

  test('groups are created empty over HTTP, audited, listed, and a taken name is a conflict', async () => {
    const { w } = await setup();
    const g = await call(w, 'POST', '/v1/admin/groups', w.keys.ada, { name: 'release', description: 'ships' });
    assert.deepEqual([g.status, g.body.name, g.body.members], [201, 'release', []]);
    assert.equal((await lastAudit(w)).event, 'group.created');
    assert.equal((await call(w, 'POST', '/v1/admin/groups', w.keys.ada, { name: 'release' })).status, 409);
    assert.equal((await call(w, 'POST', '/v1/admin/groups', w.keys.victor, { name: 'x' })).status, 403);
    const lists = await Promise.all(
      ['/v1/admin/users', '/v1/admin/agents', '/v1/admin/keys', '/v1/admin/groups'].map((u) => call(w, 'GET', u, w.keys.ada)),
    );
    assert.deepEqual(
      lists.map((l) => l.status),
      [200, 200, 200, 200],
    );
    assert.deepEqual(lists[0]?.body.items.map((u: { email: string }) => u.email).length, 5);
  });
});
