import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { startGateway } from '../src/gateway.js';
import { auditRows, call, forEachDialect, propose, review, type World, world } from './helpers.js';

async function actionRowsWithKey(w: World, key: string) {
  return w.gw.deps.db.read.selectFrom('actions').select(['id', 'agent_id']).where('idempotency_key', '=', key).execute();
}

/** Follows next_cursor to the end; returns every page. */
async function allPages(w: World, query: string, key: string, limit: number, from: string | null = null) {
  const pages: Array<{ items: Array<{ id: string; agent: { id: string } }>; next_cursor: string | null }> = [];
  let cursor = from;
  do {
    const r = await call(w, 'GET', `/v1/actions?${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, key);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    pages.push(r.body);
    cursor = r.body.next_cursor;
    assert.ok(pages.length < 100, 'paging ends');
  } while (cursor !== null);
  return pages;
}

const session = () => `s-${randomUUID()}`;

forEachDialect('idempotency', (dialect) => {
  let w: World;
  before(async () => {
    w = await world(dialect);
  });
  after(async () => w.close());

  test('the same Idempotency-Key and body return the same action: 201, then 200, one row, one created entry', async () => {
    const key = `k-${randomUUID()}`;
    const body = { arguments: { env: 'production', replicas: 3 }, session_id: 's1' };
    const first = await propose(w, body, w.keys.agent, { 'idempotency-key': key });
    assert.equal(first.status, 201);
    assert.equal(first.headers.location, `/v1/actions/${first.body.id}`);
    for (let i = 0; i < 3; i++) {
      const again = await propose(w, body, w.keys.agent, { 'idempotency-key': key });
      assert.equal(again.status, 200);
      assert.equal(again.body.id, first.body.id);
      assert.equal(again.headers.location, `/v1/actions/${first.body.id}`);
      assert.deepEqual(again.body, first.body);
    }
    assert.equal((await actionRowsWithKey(w, key)).length, 1);
    const created = (await auditRows(w, first.body.id)).filter((e) => e.event === 'action.created');
    assert.equal(created.length, 1);
  });

  test('the same body with its keys in another order or other spacing is still the same request', async () => {
    const key = `k-${randomUUID()}`;
    const a = await call(w, 'POST', '/v1/actions', w.keys.agent, '{"tool":"deploy","arguments":{"a":1,"b":[1,2]}}', {
      'content-type': 'application/json',
      'idempotency-key': key,
    });
    const b = await call(w, 'POST', '/v1/actions', w.keys.agent, '{ "arguments" : { "b" : [1, 2], "a" : 1 }, "tool" : "deploy" }', {
      'content-type': 'application/json',
      'idempotency-key': key,
    });
    assert.equal(a.status, 201);
    assert.equal(b.status, 200);
    assert.equal(b.body.id, a.body.id);
  });

  test('a replay answers with the action as it is now, not as it was created', async () => {
    const key = `k-${randomUUID()}`;
    const first = await propose(w, {}, w.keys.agent, { 'idempotency-key': key });
    await review(w, first.body.id, w.keys.alice, { decision: 'approve' });
    const again = await propose(w, {}, w.keys.agent, { 'idempotency-key': key });
    assert.equal(again.status, 200);
    assert.equal(again.body.status, 'approved');
  });

  test('the same key with a different body is a 409 idempotency_conflict naming the first action, and writes nothing', async () => {
    const key = `k-${randomUUID()}`;
    const first = await propose(w, { arguments: { env: 'staging' } }, w.keys.agent, { 'idempotency-key': key });
    assert.equal(first.status, 201);
    const auditBefore = (await auditRows(w)).length;
    for (const other of [
      { arguments: { env: 'production' } },
      { arguments: { env: 'staging' }, session_id: 'x' },
      { tool: 'rollback', arguments: { env: 'staging' } },
    ]) {
      const r = await propose(w, other, w.keys.agent, { 'idempotency-key': key });
      assert.equal(r.status, 409);
      assert.equal(r.body.error.code, 'idempotency_conflict');
      assert.equal(typeof r.body.error.message, 'string');
      assert.equal(r.body.error.details.action_id, first.body.id);
    }
    assert.equal((await actionRowsWithKey(w, key)).length, 1);
    assert.equal((await auditRows(w)).length, auditBefore);
  });

  test('keys are per agent: another agent using the same key gets its own action', async () => {
    const key = `k-${randomUUID()}`;
    const mine = await propose(w, {}, w.keys.agent, { 'idempotency-key': key });
    const theirs = await propose(w, {}, w.keys.otherAgent, { 'idempotency-key': key });
    assert.equal(mine.status, 201);
    assert.equal(theirs.status, 201);
    assert.notEqual(theirs.body.id, mine.body.id);
    assert.equal(theirs.body.agent.id, w.ids.otherAgent);
    const rows = await actionRowsWithKey(w, key);
    assert.deepEqual(rows.map((r) => r.agent_id).sort(), [w.ids.agent, w.ids.otherAgent].sort());
    // Each agent's replay finds its own action.
    assert.equal((await propose(w, {}, w.keys.otherAgent, { 'idempotency-key': key })).body.id, theirs.body.id);
    assert.equal((await propose(w, {}, w.keys.agent, { 'idempotency-key': key })).body.id, mine.body.id);
  });

  test('concurrent identical requests with one key create exactly one action', async () => {
    for (let round = 0; round < 5; round++) {
      const key = `k-${randomUUID()}`;
      const results = await Promise.all(
        Array.from({ length: 12 }, () => propose(w, { arguments: { round } }, w.keys.agent, { 'idempotency-key': key })),
      );
      assert.deepEqual(results.map((r) => r.status).sort(), [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
      assert.equal(new Set(results.map((r) => r.body.id)).size, 1);
      const rows = await actionRowsWithKey(w, key);
      assert.equal(rows.length, 1);
      const rowId = rows[0]?.id as string;
      assert.equal((await auditRows(w, rowId)).filter((e) => e.event === 'action.created').length, 1);
    }
  });

  test('concurrent requests with one key but different bodies create one action; the rest are conflicts', async () => {
    const key = `k-${randomUUID()}`;
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => propose(w, { arguments: { i } }, w.keys.agent, { 'idempotency-key': key })),
    );
    const created = results.filter((r) => r.status === 201);
    assert.equal(created.length, 1);
    for (const r of results.filter((x) => x.status !== 201)) {
      assert.equal(r.status, 409);
      assert.equal(r.body.error.code, 'idempotency_conflict');
    }
    assert.equal((await actionRowsWithKey(w, key)).length, 1);
  });

  test('two gateways on one database racing the same key still create exactly one action', async () => {
    const second = await startGateway(w.env.config, {
      listen: false,
      logger: pino({ level: 'silent' }),
      ...(w.env.schema ? { schema: w.env.schema } : {}),
    });
    const w2: World = { ...w, gw: second };
    try {
      for (let round = 0; round < 5; round++) {
        const key = `k-${randomUUID()}`;
        const results = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            propose(i % 2 === 0 ? w : w2, { arguments: { round } }, w.keys.agent, { 'idempotency-key': key }),
          ),
        );
        for (const r of results) assert.ok(r.status === 200 || r.status === 201, `${r.status} ${JSON.stringify(r.body)}`);
        assert.equal(results.filter((r) => r.status === 201).length, 1);
        assert.equal(new Set(results.map((r) => r.body.id)).size, 1);
        assert.equal((await actionRowsWithKey(w, key)).length, 1);
      }
    } finally {
      await second.close();
    }
    const { verifyAudit } = await import('../src/domain/audit/verify-audit.js');
    const v = await verifyAudit(w.gw.deps.db.read);
    assert.equal(v.ok, true, v.firstBad?.problem);
  });
});

forEachDialect('listing actions', (dialect) => {
  let w: World;
  before(async () => {
    w = await world(dialect);
  });
  after(async () => w.close());

  test('the list is newest first', async () => {
    const s = session();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await propose(w, { session_id: s, arguments: { i } })).body.id);
    const r = await call(w, 'GET', `/v1/actions?session_id=${s}`, w.keys.alice);
    assert.equal(r.status, 200);
    assert.deepEqual(
      r.body.items.map((a: { id: string }) => a.id),
      [...ids].reverse(),
    );
    assert.equal(r.body.next_cursor, null);
    const unfiltered = await call(w, 'GET', '/v1/actions?limit=5', w.keys.alice);
    assert.deepEqual(
      unfiltered.body.items.map((a: { id: string }) => a.id),
      [...ids].reverse(),
    );
  });

  test('paging by cursor returns every action exactly once, for any page size', async () => {
    const s = session();
    const ids: string[] = [];
    for (let i = 0; i < 13; i++) ids.push((await propose(w, { session_id: s, arguments: { i } })).body.id);
    for (const limit of [1, 2, 3, 5, 12, 13, 14, 200]) {
      const pages = await allPages(w, `session_id=${s}`, w.keys.alice, limit);
      const seen = pages.flatMap((p) => p.items.map((a) => a.id));
      assert.deepEqual(seen, [...ids].reverse(), `limit ${limit}`);
      assert.equal(pages.length, Math.max(1, Math.ceil(13 / limit)), `limit ${limit}: no empty trailing page`);
      for (const p of pages.slice(0, -1)) assert.equal(p.items.length, limit);
    }
  });

  test('actions created while paging do not shift later pages', async () => {
    const s = session();
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await propose(w, { session_id: s })).body.id);
    const first = await call(w, 'GET', `/v1/actions?session_id=${s}&limit=2`, w.keys.alice);
    for (let i = 0; i < 3; i++) await propose(w, { session_id: s });
    const rest = await allPages(w, `session_id=${s}`, w.keys.alice, 2, first.body.next_cursor);
    const seen = [...first.body.items, ...rest.flatMap((p) => p.items)].map((a: { id: string }) => a.id);
    assert.deepEqual(seen, [...ids].reverse());
  });

  test('the status filter returns only actions in that status', async () => {
    const s = session();
    const pending = (await propose(w, { session_id: s })).body.id;
    const approved = (await propose(w, { session_id: s })).body.id;
    const denied = (await propose(w, { session_id: s })).body.id;
    const cancelled = (await propose(w, { session_id: s })).body.id;
    await review(w, approved, w.keys.alice, { decision: 'approve' });
    await review(w, denied, w.keys.alice, { decision: 'deny', reason: 'no' });
    await call(w, 'POST', `/v1/actions/${cancelled}/cancel`, w.keys.agent, {});
    const expect: Record<string, string[]> = {
      pending: [pending],
      approved: [approved],
      denied: [denied],
      cancelled: [cancelled],
      expired: [],
      executed: [],
    };
    for (const [status, want] of Object.entries(expect)) {
      const r = await call(w, 'GET', `/v1/actions?session_id=${s}&status=${status}`, w.keys.alice);
      assert.deepEqual(
        r.body.items.map((a: { id: string }) => a.id),
        want,
        status,
      );
      for (const a of r.body.items) assert.equal(a.status, status);
    }
  });

  test('the agent filter takes a name or an id; the tool filter matches the tool exactly', async () => {
    const s = session();
    const mine = (await propose(w, { session_id: s, tool: 'deploy' })).body.id;
    const theirs = (await propose(w, { session_id: s, tool: 'deploy' }, w.keys.otherAgent)).body.id;
    const mineRollback = (await propose(w, { session_id: s, tool: 'rollback' })).body.id;
    const list = async (q: string) =>
      (await call(w, 'GET', `/v1/actions?session_id=${s}&${q}`, w.keys.alice)).body.items.map((a: { id: string }) => a.id);
    assert.deepEqual(await list('agent=deployer'), [mineRollback, mine]);
    assert.deepEqual(await list(`agent=${w.ids.agent}`), [mineRollback, mine]);
    assert.deepEqual(await list('agent=other-agent'), [theirs]);
    assert.deepEqual(await list(`agent=${w.ids.otherAgent}`), [theirs]);
    assert.deepEqual(await list('agent=nobody'), []);
    assert.deepEqual(await list('tool=deploy'), [theirs, mine]);
    assert.deepEqual(await list('tool=rollback'), [mineRollback]);
    assert.deepEqual(await list('tool=Deploy'), []);
    assert.deepEqual(await list('tool=deploy&agent=deployer&status=pending'), [mine]);
  });

  test('an agent lists only its own actions, whatever it filters on', async () => {
    const s = session();
    const mine = (await propose(w, { session_id: s })).body.id;
    const theirs = (await propose(w, { session_id: s }, w.keys.otherAgent)).body.id;
    const list = async (key: string, q = '') =>
      (await call(w, 'GET', `/v1/actions?session_id=${s}${q}`, key)).body.items.map((a: { id: string }) => a.id);
    assert.deepEqual(await list(w.keys.agent), [mine]);
    assert.deepEqual(await list(w.keys.otherAgent), [theirs]);
    assert.deepEqual(await list(w.keys.agent, '&agent=other-agent'), []);
    assert.deepEqual(await list(w.keys.agent, `&agent=${w.ids.otherAgent}`), []);
    const everything = await allPages(w, 'status=pending', w.keys.agent, 200);
    for (const a of everything.flatMap((p) => p.items)) assert.equal(a.agent.id, w.ids.agent);
  });

  test('an agent gets a 404 for another agent’s action, the same as for one that does not exist', async () => {
    const { body: theirs } = await propose(w, {}, w.keys.otherAgent);
    const r = await call(w, 'GET', `/v1/actions/${theirs.id}`, w.keys.agent);
    assert.equal(r.status, 404);
    assert.equal(r.body.error.code, 'not_found');
    assert.equal(r.body.error.message, `no action with id ${theirs.id}`);
    assert.equal((await call(w, 'GET', `/v1/actions/${theirs.id}?wait=1`, w.keys.agent)).status, 404);
    assert.equal((await call(w, 'GET', `/v1/actions/${theirs.id}`, w.keys.otherAgent)).status, 200);
  });

  test('people see every agent’s actions, viewers included', async () => {
    const s = session();
    const mine = (await propose(w, { session_id: s })).body.id;
    const theirs = (await propose(w, { session_id: s }, w.keys.otherAgent)).body.id;
    for (const key of [w.keys.alice, w.keys.victor, w.keys.ada, w.keys.bob]) {
      const r = await call(w, 'GET', `/v1/actions?session_id=${s}`, key);
      assert.deepEqual(
        r.body.items.map((a: { id: string }) => a.id),
        [theirs, mine],
      );
      assert.equal((await call(w, 'GET', `/v1/actions/${theirs}`, key)).status, 200);
    }
  });

  test('each listed action carries its reviews, like a single read', async () => {
    const s = session();
    const id = (await propose(w, { session_id: s })).body.id;
    await review(w, id, w.keys.alice, { decision: 'approve', reason: 'ok', arguments: { env: 'staging' } });
    const listed = (await call(w, 'GET', `/v1/actions?session_id=${s}`, w.keys.alice)).body.items[0];
    const single = (await call(w, 'GET', `/v1/actions/${id}`, w.keys.alice)).body;
    assert.deepEqual(listed, single);
    assert.equal(listed.reviews.length, 1);
    assert.equal(listed.reviews[0].reviewer.email, 'alice@example.com');
  });
});
