import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { canonicalAuditEntry } from '../src/domain/audit/chain.js';
import { canonicalJson } from '../src/lib/canonical.js';
import { auditRows, call, forEachDialect, propose, review, type World, world } from './helpers.js';

interface Entry {
  seq: number;
  actor_type: string;
  actor_id: string | null;
  event: string;
  action_id: string | null;
  data: Record<string, unknown>;
  hash: string;
}

forEachDialect('reading the audit log over HTTP', (dialect) => {
  let w: World;
  let approvedId = '';
  let deniedId = '';
  const list = (query: string, key = w.keys.alice) => call(w, 'GET', `/v1/audit${query}`, key);

  before(async () => {
    w = await world(dialect);
    approvedId = (await propose(w, { purpose: 'ship it' })).body.id;
    deniedId = (await propose(w, { purpose: 'drop the table' })).body.id;
    await review(w, approvedId, w.keys.alice, { decision: 'approve', arguments: { env: 'staging' } });
    await review(w, deniedId, w.keys.carol, { decision: 'deny', reason: 'no' });
  });
  after(async () => w?.close());

  test('GET /v1/audit pages through every entry in sequence order with next_cursor', async () => {
    const all = await auditRows(w);
    const seen: Entry[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r = await list(`?limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(r.status, 200);
      assert.ok(r.body.items.length <= 7);
      seen.push(...r.body.items);
      cursor = r.body.next_cursor;
      pages += 1;
    } while (cursor !== null);
    assert.equal(pages, Math.ceil(all.length / 7));
    assert.deepEqual(
      seen.map((e) => e.seq),
      all.map((r) => Number(r.seq)),
    );
    assert.deepEqual(
      seen.map((e) => e.hash),
      all.map((r) => r.hash),
    );
    assert.deepEqual(seen[0]?.data, JSON.parse(all[0]?.data ?? ''));
  });

  test('GET /v1/audit filters by action, by event, and by actor given as id, email or agent name', async () => {
    const byAction = (await list(`?action=${approvedId}`)).body.items as Entry[];
    assert.ok(byAction.length >= 2);
    assert.ok(byAction.every((e) => e.action_id === approvedId));
    assert.ok(byAction.some((e) => e.event === 'action.approved'));

    const denials = (await list('?event=action.denied')).body.items as Entry[];
    assert.deepEqual(
      denials.map((e) => e.action_id),
      [deniedId],
    );

    const byEmail = (await list('?actor=alice@example.com')).body.items as Entry[];
    assert.ok(byEmail.length > 0);
    assert.ok(byEmail.every((e) => e.actor_id === w.ids.alice));
    assert.deepEqual((await list(`?actor=${w.ids.alice}`)).body.items, byEmail);

    const byAgent = (await list('?actor=deployer&event=action.created')).body.items as Entry[];
    assert.deepEqual(byAgent.map((e) => e.action_id).sort(), [approvedId, deniedId].sort());
    assert.ok(byAgent.every((e) => e.actor_type === 'agent' && e.actor_id === w.ids.agent));

    assert.deepEqual((await list('?actor=nobody@example.com')).body, { items: [], next_cursor: null });
  });

  test('any person may read the log; agents get 403 and a missing key 401', async () => {
    assert.equal((await list('?limit=1', w.keys.victor)).status, 200, 'a viewer');
    const agent = await list('', w.keys.agent);
    assert.equal(agent.status, 403);
    assert.equal(agent.body.error.code, 'forbidden');
    assert.equal((await call(w, 'GET', '/v1/audit')).status, 401);
  });

  test('GET /v1/audit refuses a bad cursor, limit or unknown filter', async () => {
    for (const q of ['?cursor=abc', '?limit=0', '?limit=1001', '?limit=x', '?actr=alice']) {
      const r = await list(q);
      assert.equal(r.status, 400, q);
      assert.equal(r.body.error.code, 'invalid_request');
    }
  });

  test('the hand-built canonical entry equals RFC 8785 canonical JSON for every stored entry (what verify hashes)', async () => {
    const rows = await auditRows(w);
    assert.ok(rows.length > 20);
    for (const r of rows) {
      const fields = { ...r, seq: Number(r.seq), ts: Number(r.ts) };
      const { prev_hash: _p, hash: _h, ...hashed } = fields;
      assert.equal(canonicalAuditEntry(fields), canonicalJson({ ...hashed, data: JSON.parse(r.data) }), `entry ${r.seq}`);
    }
  });
});
