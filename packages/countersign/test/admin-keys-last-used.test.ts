import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { FakeClock } from '../src/lib/clock.js';
import { auditRows, call, forEachDialect, type World, world } from './helpers.js';

/** GET /v1/admin/keys says when each key was last used (written at most once a minute, never audited). */

interface Key {
  prefix: string;
  principal: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

forEachDialect('when an API key was last used', (dialect) => {
  let w: World;
  const clock = new FakeClock(Date.parse('2026-12-06T12:00:00Z'));
  before(async () => {
    w = await world(dialect, { clock });
  });
  after(async () => w.close());

  const keyOf = async (prefixOf: string): Promise<Key> => {
    const res = await call(w, 'GET', '/v1/admin/keys', w.keys.ada);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const key = (res.body.items as Key[]).find((k) => prefixOf.startsWith(k.prefix));
    assert.ok(key, `a key of ${prefixOf.slice(0, 12)}`);
    return key;
  };

  test('a key never used says so; its first use is recorded, then at most once a minute', async () => {
    const issued = await call(w, 'POST', '/v1/admin/users/victor@example.com/keys', w.keys.ada, { label: 'laptop' });
    assert.equal(issued.status, 201, JSON.stringify(issued.body));
    const key: string = issued.body.api_key;
    assert.equal((await keyOf(key)).last_used_at, null);

    const auditBefore = (await auditRows(w)).length;
    assert.equal((await call(w, 'GET', '/v1/me', key)).status, 200);
    const first = clock.now();
    assert.equal((await keyOf(key)).last_used_at, new Date(first).toISOString());

    await clock.advance(30_000);
    assert.equal((await call(w, 'GET', '/v1/me', key)).status, 200);
    assert.equal((await keyOf(key)).last_used_at, new Date(first).toISOString(), 'within the minute: not written again');

    await clock.advance(45_000);
    assert.equal((await call(w, 'GET', '/v1/me', key)).status, 200);
    assert.equal((await keyOf(key)).last_used_at, new Date(clock.now()).toISOString());
    assert.equal((await auditRows(w)).length, auditBefore, 'use is activity, not a change of authority: nothing audited');
  });

  test('a refused request (a wrong secret, a revoked key) records no use', async () => {
    const issued = await call(w, 'POST', '/v1/admin/users/carol@example.com/keys', w.keys.ada, {});
    const key: string = issued.body.api_key;
    const wrong = `${key.slice(0, -4)}${key.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    assert.equal((await call(w, 'GET', '/v1/me', wrong)).status, 401);
    assert.equal((await keyOf(key)).last_used_at, null, 'the wrong secret was not a use');
    const revoked = await call(w, 'POST', `/v1/admin/keys/${issued.body.key_prefix}/revoke`, w.keys.ada);
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    await clock.advance(120_000);
    assert.equal((await call(w, 'GET', '/v1/me', key)).status, 401);
    const after = await keyOf(key);
    assert.equal(after.last_used_at, null);
    assert.notEqual(after.revoked_at, null);
  });

  test('the admin key itself shows its use, and listing one person’s keys carries the field too', async () => {
    await clock.advance(120_000);
    const mine = await call(w, 'GET', '/v1/admin/keys?of=ada@example.com', w.keys.ada);
    assert.equal(mine.status, 200);
    assert.equal(mine.body.items.length, 1);
    assert.equal(mine.body.items[0].last_used_at, new Date(clock.now()).toISOString(), 'this very request is a use');
  });

  test('people who are not admins and agents are refused; a bad query is a 400, not a 500', async () => {
    assert.equal((await call(w, 'GET', '/v1/admin/keys', w.keys.carol)).status, 403);
    assert.equal((await call(w, 'GET', '/v1/admin/keys', w.keys.agent)).status, 403);
    assert.equal((await call(w, 'GET', '/v1/admin/keys')).status, 401);
    assert.equal((await call(w, 'GET', '/v1/admin/keys?of=', w.keys.ada)).status, 400);
    assert.equal((await call(w, 'GET', '/v1/admin/keys?last_used=1', w.keys.ada)).status, 400);
    assert.equal((await call(w, 'GET', `/v1/admin/keys?of=${'x'.repeat(400)}`, w.keys.ada)).status, 400);
  });
});
