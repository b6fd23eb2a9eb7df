import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { authenticate } from '../src/domain/identities/authenticate.js';
import { disableAgent } from '../src/domain/identities/disable-agent.js';
import { disableUser } from '../src/domain/identities/disable-user.js';
import { enableUser } from '../src/domain/identities/enable-user.js';
import { readIdentityEpoch } from '../src/domain/identities/epoch.js';
import { revokeKey } from '../src/domain/identities/revoke-key.js';
import { setUserRole } from '../src/domain/identities/set-user-role.js';
import { CsError } from '../src/lib/errors.js';
import { EXAMPLE } from './fixtures/policies.js';
import { ADMIN, auditRows, call, forEachDialect, propose, review, type World, withPolicy, world } from './helpers.js';
import { SseClient } from './sse-client.js';

const prefixOf = (key: string) => key.slice(0, 'cs_'.length + 12);
/** Generous: the gateway that revoked checks at once, and every gateway at least every second. */
const PROMPTLY_MS = 5000;

forEachDialect('revocation ends what is held open', (dialect) => {
  const open: World[] = [];
  const streams: SseClient[] = [];
  afterEach(async () => {
    for (const s of streams.splice(0)) s.close();
    for (const w of open.splice(0)) await w.close();
  });
  async function setup(policy?: string) {
    const w = await world(dialect, { listen: true, ...(policy ? { config: withPolicy(policy) } : {}) });
    open.push(w);
    return w;
  }
  async function stream(w: World, key: string) {
    const s = await SseClient.open(w.gw.url, key);
    streams.push(s);
    return s;
  }

  test("a revoked viewer's open event stream ends and receives no event created after the revocation", async () => {
    const w = await setup();
    const s = await stream(w, w.keys.victor);
    const before = (await propose(w)).body;
    await s.waitFor('action.created', before.id);
    await revokeKey(w.gw.deps, ADMIN, prefixOf(w.keys.victor));
    const after = (await propose(w, { arguments: { env: 'staging' } })).body;
    assert.ok(await s.endsWithin(PROMPTLY_MS), 'the stream was ended by the server');
    assert.equal(
      s.events.some((e) => e.data.action_id === after.id),
      false,
      'nothing created after the revocation reached it',
    );
    assert.equal(w.gw.deps.identities.size(), 0, 'the stream no longer holds a registration');
  });

  test('disabling a person ends every stream they hold open, whichever of their keys it uses', async () => {
    const w = await setup();
    const a = await stream(w, w.keys.alice);
    const b = await stream(w, w.keys.alice);
    const other = await stream(w, w.keys.carol);
    await disableUser(w.gw.deps, ADMIN, 'alice@example.com');
    const after = (await propose(w)).body;
    assert.ok(await a.endsWithin(PROMPTLY_MS));
    assert.ok(await b.endsWithin(PROMPTLY_MS));
    await other.waitFor('action.created', after.id);
    assert.equal([...a.events, ...b.events].filter((e) => e.data.action_id === after.id).length, 0);
  });

  test('a role change ends the stream, so the client reconnects with its new rights', async () => {
    const w = await setup();
    const s = await stream(w, w.keys.alice);
    await setUserRole(w.gw.deps, ADMIN, { email: 'alice@example.com', role: 'viewer' });
    assert.ok(await s.endsWithin(PROMPTLY_MS));
    const again = await stream(w, w.keys.alice);
    const a = (await propose(w)).body;
    await again.waitFor('action.created', a.id);
  });

  test('a long-poll of a revoked agent ends with 401, and a decision made after the revocation never reaches it', async () => {
    const w = await setup();
    const a = (await propose(w)).body;
    const waiting = call(w, 'GET', `/v1/actions/${a.id}?wait=60`, w.keys.agent);
    // The waiter is registered before the revocation; then the decision lands right after it.
    while (w.gw.deps.identities.size() === 0) await new Promise((r) => setTimeout(r, 5));
    await revokeKey(w.gw.deps, ADMIN, prefixOf(w.keys.agent));
    assert.equal((await review(w, a.id, w.keys.alice, { decision: 'approve' })).status, 200);
    const r = await waiting;
    assert.equal(r.status, 401);
    assert.equal(r.body.error.code, 'unauthenticated');
    assert.equal(JSON.stringify(r.body).includes('approved'), false);
  });

  test("a batch long-poll of a disabled agent ends with 401 while another person's wait goes on", async () => {
    const w = await setup();
    const batch = await call(w, 'POST', '/v1/actions/batch', w.keys.agent, {
      actions: [
        { tool: 'deploy', arguments: { env: 'a' } },
        { tool: 'deploy', arguments: { env: 'b' } },
      ],
    });
    assert.equal(batch.status, 201, JSON.stringify(batch.body));
    const agentWait = call(w, 'GET', `/v1/batches/${batch.body.batch_id}?wait=60`, w.keys.agent);
    const aliceWait = call(w, 'GET', `/v1/batches/${batch.body.batch_id}?wait=60`, w.keys.alice);
    while (w.gw.deps.identities.size() < 2) await new Promise((r) => setTimeout(r, 5));
    await disableAgent(w.gw.deps, ADMIN, 'deployer', 'offboarded');
    assert.equal((await agentWait).status, 401);
    const seen = await aliceWait;
    assert.equal(seen.status, 200);
    assert.deepEqual(
      seen.body.actions.map((x: { status: string; reason: string }) => [x.status, x.reason]),
      [
        ['cancelled', 'offboarded'],
        ['cancelled', 'offboarded'],
      ],
    );
  });

  test("a disabled agent's pending actions are cancelled with the reason, audited, and a person's waiter is answered", async () => {
    const w = await setup();
    const a = (await propose(w)).body;
    const mine = (await propose(w, {}, w.keys.otherAgent)).body;
    const waiting = call(w, 'GET', `/v1/actions/${a.id}?wait=60`, w.keys.alice);
    while (w.gw.deps.identities.size() === 0) await new Promise((r) => setTimeout(r, 5));
    const r = await disableAgent(w.gw.deps, ADMIN, 'deployer', 'contractor offboarded');
    assert.deepEqual(r.cancelled, [a.id]);
    const answer = await waiting;
    assert.equal(answer.status, 200);
    assert.deepEqual([answer.body.status, answer.body.reason], ['cancelled', 'contractor offboarded']);
    assert.equal(
      (await call(w, 'GET', `/v1/actions/${mine.id}`, w.keys.alice)).body.status,
      'pending',
      "another agent's action is untouched",
    );
    assert.deepEqual(
      (await auditRows(w, a.id)).map((e) => e.event),
      ['action.created', 'action.cancelled'],
    );
    const disabled = (await auditRows(w)).find((e) => e.event === 'agent.disabled');
    assert.equal(JSON.parse(disabled?.data ?? '{}').reason, 'contractor offboarded');
    assert.equal((await propose(w)).status, 401, 'its key no longer works');
  });

  test("a disabled person's standing grant stops approving at once, and works again when they are enabled", async () => {
    const w = await setup(`${EXAMPLE}\ngrants: { max_duration: 8h, max_uses: 50 }\n`);
    const staging = { tool: 'deploy', arguments: { env: 'staging', version: '1.0.0' } };
    const first = (await propose(w, staging)).body;
    assert.equal((await review(w, first.id, w.keys.alice, { decision: 'approve', grant: {} })).status, 200);
    assert.equal((await propose(w, staging)).body.status, 'approved', 'the grant approves');
    const r = await disableUser(w.gw.deps, ADMIN, 'alice@example.com');
    assert.equal(r.suspendedGrants, 1);
    assert.equal((await propose(w, staging)).body.status, 'pending', 'the grant no longer approves');
    await enableUser(w.gw.deps, ADMIN, 'alice@example.com');
    assert.equal((await propose(w, staging)).body.status, 'approved', 'suspended, not revoked');
  });

  test('revoking a key leaves the grants of its person in force and says when it was their last key', async () => {
    const w = await setup(`${EXAMPLE}\ngrants: { max_duration: 8h, max_uses: 50 }\n`);
    const staging = { tool: 'deploy', arguments: { env: 'staging', version: '1.0.0' } };
    const first = (await propose(w, staging)).body;
    assert.equal((await review(w, first.id, w.keys.alice, { decision: 'approve', grant: {} })).status, 200);
    const r = await revokeKey(w.gw.deps, ADMIN, prefixOf(w.keys.alice));
    assert.deepEqual([r.remainingKeys, r.liveGrants], [0, 1]);
    assert.equal((await propose(w, staging)).body.status, 'approved', 'grants belong to the person, not the key');
  });

  test("a key revoked behind the epoch's back (a hand edit of the table) is caught by the per-stream re-check at keep-alive", async () => {
    const w = await setup();
    const watch = w.gw.deps.identities.watch(await authenticate(w.gw.deps.db.read, w.keys.victor));
    try {
      await watch.sync();
      await w.gw.deps.db.write.updateTable('api_keys').set({ revoked_at: 1 }).where('prefix', '=', prefixOf(w.keys.victor)).execute();
      await watch.sync();
      assert.equal(watch.signal.aborted, false, 'the epoch did not move, so the shared check does not see it');
      await watch.recheck();
      assert.equal(watch.signal.aborted, true);
      assert.equal(watch.reason(), 'revoked');
    } finally {
      watch.release();
    }
  });

  test('a held request starts verified at the epoch its key was authenticated at, and is re-read once the epoch moves', async () => {
    const w = await setup();
    const d = w.gw.deps;
    const key = await d.keys.authenticate(d.db.read, w.keys.victor, d.clock.now());
    const watch = d.identities.watch(key.principal, { verifiedAt: key.epoch });
    try {
      // A hand edit moves no epoch: only a re-read of the principal could see it, and none is needed yet.
      await d.db.write.updateTable('api_keys').set({ revoked_at: 1 }).where('prefix', '=', prefixOf(w.keys.victor)).execute();
      await watch.sync();
      assert.equal(watch.signal.aborted, false, 'no re-read while the epoch stands where the key was authenticated');
      await revokeKey(d, ADMIN, prefixOf(w.keys.carol));
      await watch.sync();
      assert.equal(watch.reason(), 'revoked', 'the epoch moved, so the principal was read again');
    } finally {
      watch.release();
    }
  });

  test('a long-poll and an event stream answer a decision without reading their caller again', async () => {
    const w = await setup();
    const a = (await propose(w)).body;
    const s = await stream(w, w.keys.agent);
    const waiting = call(w, 'GET', `/v1/actions/${a.id}?wait=60`, w.keys.agent);
    while (w.gw.deps.identities.size() < 2) await new Promise((r) => setTimeout(r, 5));
    // Behind the epoch's back, so only a re-read of the principal would notice.
    await w.gw.deps.db.write.updateTable('api_keys').set({ revoked_at: 1 }).where('prefix', '=', prefixOf(w.keys.agent)).execute();
    assert.equal((await review(w, a.id, w.keys.alice, { decision: 'approve' })).status, 200);
    const r = await waiting;
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.status, 'approved');
    await s.waitFor('action.approved', a.id);
  });

  test('every revocation, disable and role change moves the identity epoch in its own transaction', async () => {
    const w = await setup();
    const d = w.gw.deps;
    const e0 = await readIdentityEpoch(d.db.read);
    await revokeKey(d, ADMIN, prefixOf(w.keys.carol));
    await disableUser(d, ADMIN, 'victor@example.com');
    await setUserRole(d, ADMIN, { email: 'alice@example.com', role: 'viewer' });
    await disableAgent(d, ADMIN, 'other-agent');
    assert.equal(await readIdentityEpoch(d.db.read), e0 + 4);
    // A refused change moves nothing: the conflict rolls the whole transaction back.
    await assert.rejects(
      () => revokeKey(d, ADMIN, prefixOf(w.keys.carol)),
      (e: unknown) => e instanceof CsError && e.code === 'conflict',
    );
    assert.equal(await readIdentityEpoch(d.db.read), e0 + 4);
  });
});
