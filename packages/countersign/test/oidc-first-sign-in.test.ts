import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { newId } from '../src/lib/ids.js';
import { auditRows, forEachDialect, type World, world } from './helpers.js';
import { callback, startAndAuthorize, withSso } from './oidc-flow.js';
import { TestIdp } from './oidc-idp.js';
import { openRaw } from './raw-db.js';

let idp: TestIdp;
before(async () => {
  idp = await TestIdp.start();
});
after(async () => {
  await idp.stop();
});

const people = (w: World, email: string) => w.gw.deps.db.read.selectFrom('users').select('id').where('email', '=', email).execute();

forEachDialect('the first sign-in of a new identity-provider account', (dialect) => {
  const open: World[] = [];
  afterEach(async () => {
    for (const w of open.splice(0)) await w.close();
    idp.accounts.clear();
  });
  async function setup() {
    const w = await world(dialect, { config: withSso(idp, { jit_provisioning: true }) });
    open.push(w);
    return w;
  }

  test('two first sign-ins of the same account at the same moment both sign in, as one new person created once', async () => {
    const w = await setup();
    idp.accounts.set('sub-nia', { email: 'nia@example.com', groups: ['cs-approvers'] });
    const a = await startAndAuthorize(w, idp, 'sub-nia');
    const b = await startAndAuthorize(w, idp, 'sub-nia');
    const [ra, rb] = await Promise.all([callback(w, a.callback, a.state), callback(w, b.callback, b.state)]);
    assert.equal(ra.status, 302, JSON.stringify(ra.body));
    assert.equal(rb.status, 302, JSON.stringify(rb.body));
    const nia = await people(w, 'nia@example.com');
    assert.equal(nia.length, 1);
    const created = (await auditRows(w)).filter((r) => r.event === 'user.created' && JSON.parse(r.data).email === 'nia@example.com');
    assert.equal(created.length, 1);
    const sessions = await w.gw.deps.db.read
      .selectFrom('sessions')
      .select('id')
      .where('user_id', '=', nia[0]?.id ?? '')
      .execute();
    assert.equal(sessions.length, 2);
  });

  if (dialect === 'postgres') {
    // Another gateway's transaction, provisioning the same account, holds the new person's row uncommitted when
    // this one inserts the same email: this insert waits, then meets the unique key once that commits.
    test('a first sign-in that loses the race to another gateway signs in as the person that gateway created', async () => {
      const w = await setup();
      idp.accounts.set('sub-raj', { email: 'raj@example.com', groups: [] });
      const flow = await startAndAuthorize(w, idp, 'sub-raj');
      const other = await openRaw(w);
      const watcher = await openRaw(w);
      try {
        const id = newId();
        await other.run('begin');
        await other.run(`insert into users (id, email, name, role, created_at, disabled_at) values (?, ?, ?, 'viewer', ?, null)`, [
          id,
          'raj@example.com',
          'Raj',
          Date.now(),
        ]);
        await other.run(
          'insert into linked_identities (issuer, subject, user_id, email, created_at, last_sign_in_at) values (?, ?, ?, null, ?, null)',
          [idp.issuer, 'sub-raj', id, Date.now()],
        );
        const signingIn = callback(w, flow.callback, flow.state);
        await untilSomeoneWaitsOnALock(watcher);
        await other.run('commit');
        const res = await signingIn;
        assert.equal(res.status, 302, JSON.stringify(res.body));
        const raj = await people(w, 'raj@example.com');
        assert.deepEqual(
          raj.map((p) => p.id),
          [id],
        );
        const session = await w.gw.deps.db.read.selectFrom('sessions').select('user_id').executeTakeFirst();
        assert.equal(session?.user_id, id);
      } finally {
        await other.close();
        await watcher.close();
      }
    });
  }
});

async function untilSomeoneWaitsOnALock(raw: Awaited<ReturnType<typeof openRaw>>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const rows = await raw.all<{ n: string }>(
      `select count(*)::text as n from pg_stat_activity
        where wait_event_type = 'Lock' and datname = current_database() and query like '%insert into "users"%'`,
    );
    if (Number(rows[0]?.n) > 0) return;
    await sleep(10);
  }
  throw new Error('the sign-in never waited on the other transaction');
}
