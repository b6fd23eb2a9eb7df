import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { openDatabase } from '../src/db/connect.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { addPerson } from '../src/domain/identities/add-user.js';
import { createGroup } from '../src/domain/identities/create-group.js';
import { listGroups } from '../src/domain/identities/list-groups.js';
import { groupsOf } from '../src/domain/identities/memberships.js';
import { setUserGroups } from '../src/domain/identities/set-user-groups.js';
import { listApprovers } from '../src/domain/workflow/list-approvers.js';
import { CsError, type ErrorCode } from '../src/lib/errors.js';
import { ADMIN, addPeople, auditRows, call, forEachDialect, testEnv, type World, world } from './helpers.js';

const fails = (code: ErrorCode) => (e: unknown) => e instanceof CsError && e.code === code;

forEachDialect('groups as data', (dialect) => {
  const open: World[] = [];
  afterEach(async () => {
    for (const w of open.splice(0)) await w.close();
  });
  async function setup() {
    const w = await world(dialect);
    open.push(w);
    return w;
  }

  test('upgrading copies every JSON group list into groups and memberships and drops the column', async () => {
    const env = testEnv(dialect);
    const db = await openDatabase({ url: env.config.database.url, migrate: false, ...(env.schema ? { schema: env.schema } : {}) });
    try {
      await migrateToLatest(db, { through: '008-policy-versions' });
      const rows = [
        { id: '0190a000-0000-7000-8000-000000000001', email: 'a@example.com', groups: '["sre","oncall"]' },
        { id: '0190a000-0000-7000-8000-000000000002', email: 'b@example.com', groups: '["sre"]' },
        { id: '0190a000-0000-7000-8000-000000000003', email: 'c@example.com', groups: '[]' },
      ];
      for (const r of rows) {
        // biome-ignore lint/suspicious/noExplicitAny: yesterday's schema has a column today's types do not
        await (db.write as any)
          .insertInto('users')
          .values({ ...r, name: r.email, role: 'reviewer', created_at: 1, disabled_at: null })
          .execute();
      }
      assert.equal((await migrateToLatest(db))[0], '009-groups', 'the upgrade starts with the groups migration');
      assert.deepEqual(await groupsOf(db.read, rows[0]?.id as string), ['oncall', 'sre']);
      assert.deepEqual(await groupsOf(db.read, rows[1]?.id as string), ['sre']);
      assert.deepEqual(await groupsOf(db.read, rows[2]?.id as string), []);
      const groups = await db.read.selectFrom('groups').select('name').execute();
      assert.deepEqual(groups.map((g) => g.name).sort(), ['oncall', 'sre'], 'one row per group, however many members');
      const columns = Object.keys((await db.read.selectFrom('users').selectAll().executeTakeFirst()) ?? {});
      assert.ok(!columns.includes('groups'), 'the JSON column is gone: one source of truth');
    } finally {
      await db.close();
      await env.cleanup();
    }
  });

  test('a person created without a key exists with role and groups, and has no key to call with', async () => {
    const w = await setup();
    const p = await addPerson(w.gw.deps, ADMIN, { email: 'Kim@Example.com', role: 'reviewer', groups: ['sre'] });
    assert.deepEqual([p.email, p.role, p.groups], ['kim@example.com', 'reviewer', ['sre']]);
    const keys = await w.gw.deps.db.read.selectFrom('api_keys').select('id').where('principal_id', '=', p.id).execute();
    assert.equal(keys.length, 0);
    const audit = (await auditRows(w)).slice(-2).map((r) => r.event);
    assert.deepEqual(audit, ['group.created', 'user.created'], 'the new group and the person are both audited');
    await assert.rejects(() => addPerson(w.gw.deps, ADMIN, { email: 'kim@example.com' }), fails('conflict'));
  });

  test('changing groups moves memberships, keeps groups that others or nobody still hold, and shows on the next request', async () => {
    const w = await setup();
    await addPeople(w, [{ email: 'dan@example.com', groups: ['sre'] }]);
    await setUserGroups(w.gw.deps, ADMIN, { email: 'alice@example.com', groups: ['sre', 'db'] });
    await setUserGroups(w.gw.deps, ADMIN, { email: 'alice@example.com', groups: ['db'] });
    assert.deepEqual((await call(w, 'GET', '/v1/me', w.keys.alice)).body.groups, ['db']);
    const groups = await listGroups(w.gw.deps);
    assert.deepEqual(
      groups.map((g) => [g.name, g.members]),
      [
        ['db', ['alice@example.com']],
        ['sre', ['dan@example.com']],
      ],
    );
  });

  test('an empty group can be created once and is audited; a taken or malformed name is refused', async () => {
    const w = await setup();
    const g = await createGroup(w.gw.deps, ADMIN, { name: 'release-managers', description: 'ship it' });
    const last = (await auditRows(w)).at(-1);
    assert.deepEqual([last?.event, JSON.parse(last?.data ?? '{}').name], ['group.created', 'release-managers']);
    assert.deepEqual(
      (await listGroups(w.gw.deps)).map((x) => [x.id, x.members]),
      [[g.id, []]],
    );
    await assert.rejects(() => createGroup(w.gw.deps, ADMIN, { name: 'release-managers' }), fails('conflict'));
    await assert.rejects(() => createGroup(w.gw.deps, ADMIN, { name: 'has space' }), fails('invalid_request'));
  });

  test('who may approve a stage is one query: named people, group members, roles, the owner only when named, never the disabled', async () => {
    const w = await setup();
    await addPeople(w, [
      { email: 'dan@example.com', groups: ['sre'] },
      { email: 'eve@example.com', groups: ['sre'], role: 'viewer' },
      { email: 'fay@example.com', groups: ['sre'] },
    ]);
    await setUserGroups(w.gw.deps, ADMIN, { email: 'bob@example.com', groups: ['sre'] });
    await w.gw.deps.committer.run(async (tx) => {
      await tx.db.updateTable('users').set({ disabled_at: tx.now }).where('email', '=', 'fay@example.com').execute();
    });
    const emails = async (...args: Parameters<typeof listApprovers>) => (await listApprovers(...args)).map((a) => a.email);
    const db = w.gw.deps.db.read;
    assert.deepEqual(await emails(db, [{ groups: ['sre'] }], w.ids.bob), ['dan@example.com'], 'viewer, disabled and owner left out');
    assert.deepEqual(await emails(db, [{ groups: ['sre'], owner: true }], w.ids.bob), ['bob@example.com', 'dan@example.com']);
    assert.deepEqual(await emails(db, [{ roles: ['admin'] }, { users: ['Carol@example.com'] }], w.ids.bob), [
      'ada@example.com',
      'carol@example.com',
    ]);
    assert.deepEqual(await emails(db, [{ groups: ['sre'] }], w.ids.bob, [w.ids.alice, 'dan@example.com']), []);
    assert.deepEqual(await emails(db, [{ groups: ['nobody-here'] }], w.ids.bob), []);
  });
});
