import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import type { Deps } from '../src/deps.js';
import { disableAgent } from '../src/domain/identities/disable-agent.js';
import { bumpIdentityEpoch, readIdentityEpoch } from '../src/domain/identities/epoch.js';
import { revokeKey } from '../src/domain/identities/revoke-key.js';
import { readAfterWithEpoch } from '../src/events/outbox.js';
import type { StoredEvent } from '../src/events/types.js';
import { CsError } from '../src/lib/errors.js';
import { eventually, twoNodes, waiters } from './cross-node-helpers.js';
import { ADMIN, auditRows, call, type Dialect, forEachDialect, propose, review, type World, world } from './helpers.js';
import { SseClient } from './sse-client.js';

/**
 * The identity epoch travels with the events (StoredEvent.epoch): a waiter verified at the epoch a decision
 * carries is answered with no read after the commit, one verified earlier reads the epoch as before, and a
 * revocation committed before the decision (by this gateway or another writer) still keeps the decision from
 * the revoked caller.
 */

const prefixOf = (key: string) => key.slice(0, 'cs_'.length + 12);
/** A guard so a missed wake-up fails the test instead of holding it for ever (not a latency bound). */
const GUARD = { timeout: 60_000 };
/** PostgreSQL gateways hear each other by NOTIFY (the poll is pushed out of the way); SQLite ones by the poll. */
const pollFor = (dialect: Dialect) => (dialect === 'postgres' ? 600_000 : 100);

/**
 * From now on every identity read of this gateway's watcher fails (its tick, `changed()` and every delivery
 * check go through `sync`). A held request that is answered all the same was answered without one; one that
 * needed a read fails closed. Returns the undo.
 */
function failIdentityReads(deps: Deps): () => void {
  const ids = deps.identities as { sync: () => Promise<void> };
  ids.sync = () => Promise.reject(new Error('identity reads are off in this test'));
  return () => {
    delete (ids as { sync?: unknown }).sync;
  };
}

/** Starts a long-poll on `id` and an event stream of the agent on `w`, and waits until both are held. */
async function hold(w: World, id: string, key: string) {
  const stream = await SseClient.open(w.gw.url, key, `action=${id}`);
  const wait = call(w, 'GET', `/v1/actions/${id}?wait=60`, key);
  await eventually('the long-poll and the stream are held', async () => {
    return (await waiters(w.gw.deps, 'long_poll')) === 1 && (await waiters(w.gw.deps, 'sse')) === 1;
  });
  return { stream, wait };
}

forEachDialect('the identity epoch travels with the events', (dialect) => {
  const open: { close(): Promise<void> }[] = [];
  const streams: SseClient[] = [];
  afterEach(async () => {
    for (const s of streams.splice(0)) s.close();
    for (const w of open.splice(0)) await w.close();
  });
  async function gateway() {
    const w = await world(dialect, { listen: true });
    open.push(w);
    return w;
  }
  async function nodes() {
    const n = await twoNodes(dialect, {
      listen: true,
      config: (c) => ({ ...c, events: { ...c.events, pollIntervalMs: pollFor(dialect) } }),
    });
    open.push(n);
    return n;
  }
  async function holding(w: World, id: string, key = w.keys.agent) {
    const h = await hold(w, id, key);
    streams.push(h.stream);
    return h;
  }

  test('a commit’s events carry the identity epoch at that commit, its own identity change included', async () => {
    const w = await gateway();
    const d = w.gw.deps;
    const seen: StoredEvent[] = [];
    const unsubscribe = d.bus.subscribe((e) => seen.push(e));
    try {
      const a = (await propose(w)).body;
      const e0 = await readIdentityEpoch(d.db.read);
      assert.ok(seen.length > 0);
      assert.ok(seen.every((e) => e.epoch === e0));
      seen.length = 0;
      // Disabling the agent moves the epoch and cancels its pending action, in one transaction.
      await disableAgent(d, ADMIN, 'deployer', 'offboarded');
      const cancelled = seen.find((e) => e.type === 'action.cancelled' && e.actionId === a.id);
      assert.equal(cancelled?.epoch, e0 + 1);
    } finally {
      unsubscribe();
    }
  });

  test('events read from the outbox for the feed carry the epoch read in the same statement', async () => {
    const w = await gateway();
    const d = w.gw.deps;
    await propose(w);
    await revokeKey(d, ADMIN, prefixOf(w.keys.carol));
    const read = await readAfterWithEpoch(d.db.read, 0, 500);
    assert.ok(read.length > 0);
    const now = await readIdentityEpoch(d.db.read);
    assert.ok(read.every((e) => e.epoch === now));
  });

  test('an operation that moves the identity epoch without writing an audit entry is refused, and nothing it wrote is kept', async () => {
    const w = await gateway();
    const d = w.gw.deps;
    const e0 = await readIdentityEpoch(d.db.read);
    await assert.rejects(
      () => d.committer.run((tx) => bumpIdentityEpoch(tx)),
      (e: unknown) => e instanceof CsError && e.code === 'internal',
    );
    assert.equal(await readIdentityEpoch(d.db.read), e0);
    await d.committer.run(async (tx) => {
      await bumpIdentityEpoch(tx);
      tx.audit({ actor: ADMIN, event: 'test.epoch_moved', data: {} });
    });
    assert.equal(await readIdentityEpoch(d.db.read), e0 + 1);
    assert.equal((await auditRows(w)).at(-1)?.event, 'test.epoch_moved');
  });

  test(
    'a long-poll and an event stream verified at the decision’s epoch get it with no identity read after the commit',
    GUARD,
    async () => {
      const w = await gateway();
      const a = (await propose(w)).body;
      const { stream, wait } = await holding(w, a.id);
      const restore = failIdentityReads(w.gw.deps);
      try {
        assert.equal((await review(w, a.id, w.keys.alice, { decision: 'approve' })).status, 200);
        const r = await wait;
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.equal(r.body.status, 'approved');
        await stream.waitFor('action.approved', a.id, 20_000);
      } finally {
        restore();
      }
    },
  );

  test('a waiter verified before the epoch moved reads it before the decision, and a failed read never delivers', GUARD, async () => {
    const w = await gateway();
    const a = (await propose(w)).body;
    const { stream, wait } = await holding(w, a.id);
    const restore = failIdentityReads(w.gw.deps);
    try {
      // Someone else's key: the waiter keeps its power, but its watch now stands at an older epoch than the decision.
      await revokeKey(w.gw.deps, ADMIN, prefixOf(w.keys.carol));
      assert.equal((await review(w, a.id, w.keys.alice, { decision: 'approve' })).status, 200);
      const r = await wait;
      assert.notEqual(r.status, 200);
      assert.equal(JSON.stringify(r.body).includes('approved'), false);
      assert.ok(await stream.endsWithin(20_000), 'the stream ended rather than send an unverified event');
      assert.equal(
        stream.events.some((e) => e.event === 'action.approved'),
        false,
      );
    } finally {
      restore();
    }
  });

  test(
    'a waiter whose key another gateway revoked before the decision committed gets 401 and its stream ends, never the decision',
    GUARD,
    async () => {
      const { a, b } = await nodes();
      const created = (await propose(a)).body;
      const { stream, wait } = await holding(a, created.id);
      // B revokes: A's watcher is not told, only the epoch moves.
      await revokeKey(b.gw.deps, ADMIN, prefixOf(a.keys.agent));
      assert.equal((await review(a, created.id, a.keys.alice, { decision: 'approve' })).status, 200);
      const r = await wait;
      assert.equal(r.status, 401);
      assert.equal(r.body.error.code, 'unauthenticated');
      assert.ok(await stream.endsWithin(20_000));
      assert.equal(
        stream.events.some((e) => e.event === 'action.approved'),
        false,
      );
    },
  );

  test('across gateways: B’s waiters get A’s decision from the feed with no identity read of their own', GUARD, async () => {
    const { a, b } = await nodes();
    const created = (await propose(a)).body;
    const { stream, wait } = await holding(b, created.id);
    const restore = failIdentityReads(b.gw.deps);
    try {
      assert.equal((await review(a, created.id, a.keys.alice, { decision: 'approve' })).status, 200);
      const r = await wait;
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.status, 'approved');
      await stream.waitFor('action.approved', created.id, 20_000);
    } finally {
      restore();
    }
  });

  test('across gateways: a revocation committed before A’s decision keeps it from B’s waiters', GUARD, async () => {
    const { a, b } = await nodes();
    const created = (await propose(a)).body;
    const { stream, wait } = await holding(b, created.id);
    // A revokes and decides: B hears of both only through the database.
    await revokeKey(a.gw.deps, ADMIN, prefixOf(a.keys.agent));
    assert.equal((await review(a, created.id, a.keys.alice, { decision: 'approve' })).status, 200);
    const r = await wait;
    assert.equal(r.status, 401);
    assert.ok(await stream.endsWithin(20_000));
    assert.equal(
      stream.events.some((e) => e.event === 'action.approved'),
      false,
    );
  });
});
