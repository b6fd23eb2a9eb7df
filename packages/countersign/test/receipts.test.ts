import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { statSync } from 'node:fs';
import { afterEach, describe, test } from 'node:test';
import { type ReceiptError, verifyReceipt } from '@countersign/sdk/receipts';
import { SignJWT } from 'jose';
import pino from 'pino';
import { rotateKeyring } from '../src/crypto/keyring.js';
import { startGateway } from '../src/gateway.js';
import { FakeClock } from '../src/lib/clock.js';
import { auditRows, call, forEachDialect, propose, review, runCli, type World, world } from './helpers.js';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

forEachDialect('approval receipts', (dialect) => {
  const open: World[] = [];
  afterEach(async () => {
    for (const w of open.splice(0)) await w.close();
  });
  async function setup(clock?: FakeClock) {
    const w = await world(dialect, { trustAnnotationsOf: ['deployer'], ...(clock ? { clock } : {}) });
    open.push(w);
    return w;
  }
  const jwks = async (w: World) => (await call(w, 'GET', '/.well-known/jwks.json')).body;
  const asRun = (a: { id: string; agent: { id: string }; tool: string; arguments: Record<string, unknown>; resource: string | null }) => ({
    id: a.id,
    agent: a.agent.id,
    tool: a.tool,
    arguments: a.arguments,
    resource: a.resource,
  });
  const redeem = (w: World, receipt: string, action: Record<string, unknown>, key = w.keys.agent) =>
    call(w, 'POST', '/v1/receipts/redeem', key, { receipt, action });
  const runOf = (a: { id: string; tool: string; arguments: unknown; resource: string | null }) => ({
    id: a.id,
    tool: a.tool,
    arguments: a.arguments,
    resource: a.resource,
  });
  async function approved(w: World, body: Record<string, unknown> = {}, edit?: Record<string, unknown>) {
    const { body: a } = await propose(w, body);
    const r = await review(w, a.id, w.keys.alice, { decision: 'approve', ...(edit ? { arguments: edit } : {}) });
    return r.body;
  }

  test('every approval carries a receipt that verifies offline with only the JWKS', async () => {
    const w = await setup();
    const byPerson = await approved(w, { resource: 'svc/api' });
    const byRule = (await propose(w, { tool: 'get_logs', arguments: {}, annotations: { readOnlyHint: true } })).body;
    const keys = await jwks(w);
    assert.equal(keys.keys.length, 1);
    for (const a of [byPerson, byRule]) {
      assert.equal(a.status, 'approved');
      const claims = await verifyReceipt(a.receipt, asRun(a), keys);
      assert.equal(claims.sub, a.id);
      assert.equal(claims.aud, w.ids.agent);
      assert.equal(claims.exp - claims.iat, 600, 'a ten-minute execution window');
      assert.equal(claims.cs.policy_hash, a.policy.hash);
    }
    const p = await verifyReceipt(byPerson.receipt, asRun(byPerson), keys);
    assert.deepEqual(p.cs.approved_by, { type: 'user', id: w.ids.alice, label: 'alice@example.com' });
    assert.deepEqual(p.cs.approvers, ['alice@example.com']);
    const r = await verifyReceipt(byRule.receipt, asRun(byRule), keys);
    assert.deepEqual(r.cs.approved_by, { type: 'policy', id: null, label: 'trusted-reads-pass' });
    const events = (await auditRows(w, byPerson.id)).map((e) => e.event);
    assert.deepEqual(events, ['action.created', 'action.reviewed', 'action.approved', 'receipt.issued']);
  });

  test('an edited approval binds the edited arguments; the original can no longer run', async () => {
    const w = await setup();
    const a = await approved(w, { arguments: { env: 'production', replicas: 10 } }, { env: 'production', replicas: 2 });
    const keys = await jwks(w);
    await assert.rejects(
      verifyReceipt(a.receipt, { ...asRun(a), arguments: a.original_arguments }, keys),
      (e: ReceiptError) => e.code === 'receipt_arguments_changed',
    );
    const original = await redeem(w, a.receipt, { ...runOf(a), arguments: a.original_arguments });
    assert.equal(original.status, 422);
    assert.equal(original.body.error.code, 'receipt_arguments_changed');
    const edited = await redeem(w, a.receipt, runOf(a));
    assert.equal(edited.status, 200);
  });

  test('a receipt redeems exactly once; a second redeem is refused as used, and both are audited', async () => {
    const w = await setup();
    const a = await approved(w);
    const first = await redeem(w, a.receipt, runOf(a));
    assert.equal(first.status, 200);
    const second = await redeem(w, a.receipt, runOf(a));
    assert.equal(second.status, 409);
    assert.equal(second.body.error.code, 'receipt_used');
    const events = (await auditRows(w, a.id)).map((e) => e.event);
    assert.deepEqual(events.slice(-2), ['receipt.redeemed', 'receipt.refused']);
    assert.ok((await call(w, 'GET', `/v1/actions/${a.id}`, w.keys.alice)).body.redeemed_at);
  });

  test('fifty parallel redeems of one receipt: exactly one succeeds', async () => {
    const w = await setup();
    const a = await approved(w);
    const results = await Promise.all(Array.from({ length: 50 }, () => redeem(w, a.receipt, runOf(a))));
    assert.equal(results.filter((r) => r.status === 200).length, 1);
    assert.ok(results.filter((r) => r.status !== 200).every((r) => r.body.error.code === 'receipt_used'));
  });

  test('a receipt presented for another action is refused as the wrong action', async () => {
    const w = await setup();
    const a = await approved(w);
    const b = await approved(w);
    const r = await redeem(w, a.receipt, runOf(b));
    assert.equal(r.status, 422);
    assert.equal(r.body.error.code, 'receipt_wrong_action');
  });

  test('changed arguments, tool or resource are refused', async () => {
    const w = await setup();
    const a = await approved(w, { resource: 'db/main' });
    for (const changed of [{ arguments: { env: 'staging' } }, { tool: 'destroy' }, { resource: 'db/other' }]) {
      const r = await redeem(w, a.receipt, { ...runOf(a), ...changed });
      assert.equal(r.body.error.code, 'receipt_arguments_changed', JSON.stringify(changed));
    }
  });

  test('another agent cannot redeem a receipt, and people cannot redeem at all', async () => {
    const w = await setup();
    const a = await approved(w);
    assert.equal((await redeem(w, a.receipt, runOf(a), w.keys.otherAgent)).body.error.code, 'receipt_invalid');
    assert.equal((await redeem(w, a.receipt, runOf(a), w.keys.alice)).status, 403);
  });

  test('an expired receipt is refused, and the unredeemed approved action expires when its window closes, audited', async () => {
    const clock = new FakeClock();
    const w = await setup(clock);
    const a = await approved(w);
    await clock.advance(10 * 60_000);
    const r = await redeem(w, a.receipt, runOf(a));
    assert.equal(r.status, 410);
    assert.equal(r.body.error.code, 'receipt_expired');
    await w.gw.scheduler.tick();
    await w.gw.scheduler.tick();
    const after = (await call(w, 'GET', `/v1/actions/${a.id}`, w.keys.alice)).body;
    assert.equal(after.status, 'expired');
    assert.match(after.reason, /not redeemed within its execution window/);
    assert.ok((await auditRows(w, a.id)).some((e) => e.event === 'action.expired'));
  });

  test('a redeemed action does not expire when its window closes', async () => {
    const clock = new FakeClock();
    const w = await setup(clock);
    const a = await approved(w);
    assert.equal((await redeem(w, a.receipt, runOf(a))).status, 200);
    await clock.advance(60 * 60_000);
    await w.gw.scheduler.tick();
    assert.equal((await call(w, 'GET', `/v1/actions/${a.id}`, w.keys.alice)).body.status, 'approved');
    assert.equal((await call(w, 'POST', `/v1/actions/${a.id}/result`, w.keys.agent, { outcome: 'succeeded' })).body.status, 'executed');
  });

  test('unsigned, alg:none, HMAC-signed and foreign-key tokens are refused, each with its own code', async () => {
    const w = await setup();
    const a = await approved(w);
    const [h, p] = a.receipt.split('.');
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
    const none = `${b64({ alg: 'none', typ: 'countersign-receipt+jwt' })}.${p}.`;
    const unsignedEdDSA = `${h}.${p}.`;
    const hsHeader = b64({ alg: 'HS256', typ: 'countersign-receipt+jwt', kid: JSON.parse(Buffer.from(h, 'base64url').toString()).kid });
    const jwk = (await jwks(w)).keys[0];
    // The classic confusion attack: HMAC keyed with the public key.
    const hsSig = createHmac('sha256', Buffer.from(jwk.x, 'base64url')).update(`${hsHeader}.${p}`).digest('base64url');
    const hs = `${hsHeader}.${p}.${hsSig}`;
    const { privateKey } = generateKeyPairSync('ed25519');
    const foreign = await new SignJWT(payload)
      .setProtectedHeader({ alg: 'EdDSA', kid: jwk.kid, typ: 'countersign-receipt+jwt' })
      .sign(privateKey);
    const tamperedPayload = `${h}.${b64({ ...payload, cs: { ...payload.cs, approvers: ['mallory@example.com'] } })}.${a.receipt.split('.')[2]}`;
    const cases: [string, string][] = [
      [none, 'receipt_unsigned'],
      [unsignedEdDSA, 'receipt_unsigned'],
      [hs, 'receipt_bad_algorithm'],
      [foreign, 'receipt_invalid'],
      [tamperedPayload, 'receipt_invalid'],
      ['not-a-token', 'receipt_invalid'],
    ];
    for (const [token, code] of cases) {
      const r = await redeem(w, token, runOf(a));
      assert.equal(r.body.error?.code, code, `${code}: ${token.slice(0, 40)}`);
    }
    assert.equal((await redeem(w, a.receipt, runOf(a))).status, 200, 'the real receipt still redeems afterwards');
    const refused = (await auditRows(w)).filter((e) => e.event === 'receipt.refused').length;
    assert.equal(refused, cases.length);
  });

  test('the signing key is created at first start, mode 0600; after rotation old receipts still verify and new ones use the new key', async () => {
    const w = await setup();
    const file = w.gw.deps.config.signing.keyringFile;
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const old = await approved(w);
    await w.gw.close();
    const { created, previous } = await rotateKeyring(file, new Date());
    const gw = await startGateway(w.gw.deps.config, {
      listen: false,
      logger: pino({ level: 'silent' }),
      ...(w.env.schema ? { schema: w.env.schema } : {}),
    });
    try {
      const keys = (await gw.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json();
      assert.deepEqual(keys.keys.map((k: { kid: string }) => k.kid).sort(), [created.kid, previous].sort());
      await verifyReceipt(old.receipt, asRun(old), keys);
      const audit = await gw.deps.db.read
        .selectFrom('audit_log')
        .select(['event', 'data'])
        .where('event', '=', 'signing_key.created')
        .execute();
      assert.equal(audit.length, 2, 'the first key and the rotated one');
    } finally {
      await gw.close();
    }
  });
});

describe('signing keys from the CLI', () => {
  test('signing-keys rotate makes a new active key, publishes it, and ls lists both', async () => {
    const w = await world('sqlite');
    try {
      const env = { PATH: process.env.PATH ?? '', COUNTERSIGN_LOG_LEVEL: 'warn' };
      const data = w.gw.deps.config.dataDir;
      const first = w.gw.deps.keyring.active.kid;
      const rotated = await runCli(['signing-keys', 'rotate', '--data', data], env);
      assert.equal(rotated.code, 0, rotated.stderr);
      const kid = rotated.stdout.trim();
      assert.match(rotated.stderr, new RegExp(`rotated: ${first} -> ${kid}`));
      const ls = await runCli(['signing-keys', 'ls', '--data', data], env);
      assert.match(ls.stdout, new RegExp(`^${first}  \\S+\\n${kid}  \\S+  active\\n$`));
      const jwks = (await call(w, 'GET', '/.well-known/jwks.json')).body;
      assert.deepEqual(
        jwks.keys.map((k: { kid: string }) => k.kid).sort(),
        [first, kid].sort(),
        'published before any gateway signs with it',
      );
    } finally {
      await w.close();
    }
  });
});
