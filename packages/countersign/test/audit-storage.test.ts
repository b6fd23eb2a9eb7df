import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { auditEntryHash, GENESIS_HASH } from '../src/domain/audit/chain.js';
import { verifyAudit } from '../src/domain/audit/verify-audit.js';
import { auditRows, call, forEachDialect, propose, review, type World, world } from './helpers.js';
import { openRaw, type RawDb } from './raw-db.js';

// How the audit log is stored (migration 027): the hashes in as few bytes as the database allows, read back
// by every reader as the hex the chain is computed over.

forEachDialect('the audit log as stored', (dialect) => {
  let w: World;
  let raw: RawDb;

  before(async () => {
    w = await world(dialect);
    raw = await openRaw(w);
    const id = (await propose(w, { purpose: 'ship it' })).body.id;
    await review(w, id, w.keys.alice, { decision: 'approve' });
  });
  after(async () => {
    await raw?.close();
    await w?.close();
  });

  test('each hash takes its 32 bytes where the database has a byte type, and its 64 hex characters elsewhere', async () => {
    const binary = w.gw.deps.db.caps.binaryHashes('audit_log', ['hash']).length > 0;
    assert.equal(binary, dialect === 'postgres');
    const sizes = await raw.all<{ hash: number | string; prev_hash: number | string }>(
      'select distinct length(hash) as hash, length(prev_hash) as prev_hash from audit_log',
    );
    const want = binary ? 32 : 64;
    assert.deepEqual(
      sizes.map((s) => [Number(s.hash), Number(s.prev_hash)]),
      [[want, want]],
    );
  });

  test('every reader sees the lowercase hex hashes the chain links and the API returns', async () => {
    const rows = await auditRows(w);
    let prev = GENESIS_HASH;
    for (const r of rows) {
      assert.match(r.hash, /^[0-9a-f]{64}$/);
      assert.equal(r.prev_hash, prev);
      assert.equal(auditEntryHash(prev, { ...r, seq: Number(r.seq), ts: Number(r.ts) }), r.hash);
      prev = r.hash;
    }
    const api = await call(w, 'GET', '/v1/audit?limit=1000', w.keys.alice);
    assert.deepEqual(
      api.body.items.map((e: { hash: string; prev_hash: string }) => [e.prev_hash, e.hash]),
      rows.map((r) => [r.prev_hash, r.hash]),
    );
    const v = await verifyAudit(w.gw.deps.db.read);
    assert.ok(v.ok);
    assert.equal(v.headHash, prev);
  });

  test('the entries of one actor are listed in order, and the system entries, which name no actor, are never among them', async () => {
    const rows = await auditRows(w);
    const agent = rows.find((r) => r.actor_type === 'agent')?.actor_id as string;
    const r = await call(w, 'GET', `/v1/audit?actor=${agent}&limit=1000`, w.keys.alice);
    assert.deepEqual(
      r.body.items.map((e: { seq: number }) => e.seq),
      rows.filter((x) => x.actor_id === agent).map((x) => Number(x.seq)),
    );
    assert.ok(rows.some((x) => x.actor_id === null));
  });
});
