/*
 * An approved action's signed receipt is stored once, in `receipts` (migration 029), not in the action's row,
 * which is updated after the approval (redeemed, result reported) and copied whole by PostgreSQL on each
 * update. Whatever reads the action (its view, its list entry, the reviewer's and the proposer's answers, the
 * audit) gets the receipt exactly as it was issued, before and after those updates; a receipt, once stored,
 * can be neither changed nor deleted.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { receiptFromBody } from '../src/domain/receipts/stored-receipt.js';
import { auditRows, call, forEachDialect, propose, review, type World, world } from './helpers.js';

/** An action the policy approves at once: a read-only tool, from an agent whose annotations are trusted. */
const READ_ONLY = { tool: 'get_logs', arguments: { service: 'api' }, annotations: { readOnlyHint: true } };

forEachDialect('receipts are stored once, apart from the action', (dialect) => {
  let w: World;
  before(async () => {
    w = await world(dialect, { trustAnnotationsOf: ['deployer'] });
  });
  after(async () => w.close());

  /** The receipts stored for an action, each read back as its text. */
  const storedReceipts = async (id: string) =>
    (await w.gw.deps.db.read.selectFrom('receipts').select(['action_id', 'body']).where('action_id', '=', id).execute()).map((r) => ({
      action_id: r.action_id,
      text: receiptFromBody(r.body),
    }));
  /** How many bytes the database holds as the action's receipt (length() of a bytea or a blob counts bytes). */
  const storedLength = async (id: string) =>
    (await sql<{ n: number }>`select length(body) as n from receipts where action_id = ${id}`.execute(w.gw.deps.db.read)).rows.map((r) =>
      Number(r.n),
    );
  const view = async (id: string) => (await call(w, 'GET', `/v1/actions/${id}`, w.keys.alice)).body;

  test('an action a person approves has its receipt in one row of receipts, and every later read shows it as issued', async () => {
    const { body: created } = await propose(w, { tool: 'deploy', arguments: { env: 'staging' } });
    assert.equal(created.status, 'pending');
    assert.deepEqual(await storedReceipts(created.id), [], 'no receipt before the approval');
    const approved = await review(w, created.id, w.keys.alice, { decision: 'approve' });
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    const receipt = approved.body.receipt as string;
    assert.match(receipt, /^ey[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.deepEqual(await storedReceipts(created.id), [{ action_id: created.id, text: receipt }]);
    assert.equal(JSON.stringify(await view(created.id)), JSON.stringify(approved.body));
    const listed = await call(w, 'GET', '/v1/actions?tool=deploy', w.keys.alice);
    assert.equal(JSON.stringify(listed.body.items.find((a: { id: string }) => a.id === created.id)), JSON.stringify(approved.body));

    const run = { id: created.id, tool: created.tool, arguments: created.arguments, resource: created.resource };
    const redeemed = await call(w, 'POST', '/v1/receipts/redeem', w.keys.agent, { receipt, action: run });
    assert.equal(redeemed.status, 200, JSON.stringify(redeemed.body));
    const reported = await call(w, 'POST', `/v1/actions/${created.id}/result`, w.keys.agent, { outcome: 'succeeded' });
    assert.equal(reported.body.status, 'executed');
    assert.equal(reported.body.receipt, receipt);
    assert.equal(JSON.stringify(await view(created.id)), JSON.stringify(reported.body));
    assert.deepEqual(await storedReceipts(created.id), [{ action_id: created.id, text: receipt }], 'the updates wrote no second receipt');
  });

  test('an action the policy approves at once is created with its receipt in receipts, redeemed with the proposal or not', async () => {
    for (const path of ['/v1/actions', '/v1/actions?redeem=true']) {
      const created = await call(w, 'POST', path, w.keys.agent, READ_ONLY);
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.status, 'approved');
      assert.deepEqual(await storedReceipts(created.body.id), [{ action_id: created.body.id, text: created.body.receipt }], path);
      const { redeemed: _, ...asViewed } = created.body;
      assert.equal(JSON.stringify(await view(created.body.id)), JSON.stringify(asViewed), path);
      const issued = (await auditRows(w, created.body.id)).find((r) => r.event === 'receipt.issued');
      const claims = JSON.parse(Buffer.from(created.body.receipt.split('.')[1], 'base64url').toString());
      assert.equal(JSON.parse((issued as { data: string }).data).jti, claims.jti, path);
    }
  });

  test('a receipt is stored as the bytes its segments encode, a quarter shorter than its text, and every reader gets the exact text', async () => {
    const created = await call(w, 'POST', '/v1/actions', w.keys.agent, READ_ONLY);
    const receipt = created.body.receipt as string;
    const decoded = receipt.split('.').map((s) => Buffer.from(s, 'base64url'));
    const [length] = await storedLength(created.body.id);
    assert.equal(length, decoded.reduce((n, b) => n + b.length, 0) + 6, 'the three segments decoded, in a 6-byte frame');
    assert.ok((length as number) < (receipt.length * 3) / 4 + 8, `${length} bytes for a ${receipt.length}-character receipt`);
    const [row] = await w.gw.deps.db.read.selectFrom('receipts').select('body').where('action_id', '=', created.body.id).execute();
    const bytes = typeof row?.body === 'string' ? Buffer.from(row.body, 'hex') : Buffer.from(row?.body as Buffer);
    assert.ok(bytes.includes(decoded[1] as Buffer), 'the payload is stored as its JSON bytes, not its base64url text');
    assert.ok(!bytes.includes(Buffer.from(receipt.split('.')[1] as string)), 'no segment is stored as text');

    const { redeemed: _, ...asViewed } = created.body;
    assert.equal(JSON.stringify(await view(created.body.id)), JSON.stringify(asViewed));
    const run = { id: created.body.id, tool: created.body.tool, arguments: created.body.arguments, resource: created.body.resource };
    const redeemed = await call(w, 'POST', '/v1/receipts/redeem', w.keys.agent, { receipt, action: run });
    assert.equal(redeemed.status, 200, JSON.stringify(redeemed.body));
    const reported = await call(w, 'POST', `/v1/actions/${created.body.id}/result`, w.keys.agent, { outcome: 'succeeded' });
    assert.equal(reported.body.receipt, receipt);
  });

  test('an action not approved has no receipt', async () => {
    const { body: denied } = await propose(w, { tool: 'deploy', arguments: { env: 'production' } });
    const r = await review(w, denied.id, w.keys.alice, { decision: 'deny', reason: 'not today' });
    assert.equal(r.body.status, 'denied');
    assert.equal(r.body.receipt, null);
    assert.equal((await view(denied.id)).receipt, null);
    assert.deepEqual(await storedReceipts(denied.id), []);
  });

  test('the actions row holds no receipt column', async () => {
    // Every column the stored row has, whatever the dialect: the first row's keys.
    const { rows } = await sql<Record<string, unknown>>`select * from actions`.execute(w.gw.deps.db.read);
    assert.ok(rows.length > 0);
    const columns = Object.keys(rows[0] as object);
    assert.ok(columns.includes('receipt_jti'), columns.join(', '));
    assert.ok(!columns.includes('receipt'), columns.join(', '));
  });

  test('a stored receipt can be neither changed nor deleted', async () => {
    const { body } = await call(w, 'POST', '/v1/actions', w.keys.agent, READ_ONLY);
    const db = w.gw.deps.db.write;
    await assert.rejects(
      db
        .updateTable('receipts')
        .set({ body: Buffer.from('forged') })
        .where('action_id', '=', body.id)
        .execute(),
      /append-only/,
    );
    await assert.rejects(db.deleteFrom('receipts').where('action_id', '=', body.id).execute(), /append-only/);
    assert.equal((await view(body.id)).receipt, body.receipt);
  });
});
