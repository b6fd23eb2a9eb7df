import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { disableAgent } from '../src/domain/identities/disable-agent.js';
import { revokeKey } from '../src/domain/identities/revoke-key.js';
import { setUserRole } from '../src/domain/identities/set-user-role.js';
import { twoNodes } from './cross-node-helpers.js';
import { ADMIN, call, forEachDialect, propose, review, type World, world } from './helpers.js';

/**
 * Requests authenticate through a cache of recently used keys (domain/identities/key-cache.ts). Each test
 * first uses the key, so its principal is remembered, and then shows the next request sees the change.
 */
const prefixOf = (key: string) => key.slice(0, 'cs_'.length + 12);

forEachDialect('remembered API keys stay revocable at once', (dialect) => {
  const open: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const w of open.splice(0)) await w.close();
  });
  async function setup(): Promise<World> {
    const w = await world(dialect);
    open.push(w);
    return w;
  }

  test('a revoked key is refused on the request right after the revocation', async () => {
    const w = await setup();
    assert.equal((await call(w, 'GET', '/v1/me', w.keys.victor)).status, 200);
    assert.equal((await call(w, 'GET', '/v1/me', w.keys.victor)).status, 200);
    await revokeKey(w.gw.deps, ADMIN, prefixOf(w.keys.victor));
    assert.equal((await call(w, 'GET', '/v1/me', w.keys.victor)).status, 401);
  });

  test("a disabled agent's next proposal is refused", async () => {
    const w = await setup();
    assert.equal((await propose(w)).status, 201);
    await disableAgent(w.gw.deps, ADMIN, 'deployer');
    const refused = await propose(w);
    assert.equal(refused.status, 401, JSON.stringify(refused.body));
  });

  test("a person's new role applies to their next request", async () => {
    const w = await setup();
    const pending = (await propose(w)).body;
    assert.equal((await call(w, 'GET', '/v1/me', w.keys.alice)).body.role, 'reviewer');
    await setUserRole(w.gw.deps, ADMIN, { email: 'alice@example.com', role: 'viewer' });
    assert.equal((await call(w, 'GET', '/v1/me', w.keys.alice)).body.role, 'viewer');
    assert.equal((await review(w, pending.id, w.keys.alice, { decision: 'approve' })).status, 403);
  });

  test('a remembered prefix with a wrong secret is refused, and the right secret still works', async () => {
    const w = await setup();
    assert.equal((await call(w, 'GET', '/v1/me', w.keys.victor)).status, 200);
    const forged = `${prefixOf(w.keys.victor)}_${'A'.repeat(43)}`;
    assert.equal((await call(w, 'GET', '/v1/me', forged)).status, 401);
    assert.equal((await call(w, 'GET', '/v1/me', w.keys.victor)).status, 200);
  });

  test('a key revoked on another gateway is refused on the next request here', async () => {
    const nodes = await twoNodes(dialect);
    open.push(nodes);
    assert.equal((await call(nodes.a, 'GET', '/v1/me', nodes.a.keys.victor)).status, 200);
    await revokeKey(nodes.b.gw.deps, ADMIN, prefixOf(nodes.a.keys.victor));
    assert.equal((await call(nodes.a, 'GET', '/v1/me', nodes.a.keys.victor)).status, 401);
  });
});
