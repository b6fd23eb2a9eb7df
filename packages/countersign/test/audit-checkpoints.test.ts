import assert from 'node:assert/strict';
import { createHash, createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import pino from 'pino';
import type { Config } from '../src/config/schema.js';
import { verifyAudit } from '../src/domain/audit/verify-audit.js';
import { addUser } from '../src/domain/identities/add-user.js';
import { startGateway } from '../src/gateway.js';
import { FakeClock } from '../src/lib/clock.js';
import { ADMIN, auditRows, call, forEachDialect, propose, testEnv, type World, world } from './helpers.js';

const HOUR = 3_600_000;
const withAudit =
  (audit: Partial<Config['audit']>) =>
  (c: Config): Config => ({ ...c, audit: { ...c.audit, ...audit } });
/** The background checkpointer stays quiet; tests sign when they choose. */
const QUIET = { config: withAudit({ checkpointIntervalMs: 24 * HOUR }) };

async function headSize(w: World): Promise<number> {
  const row = await w.gw.deps.db.read.selectFrom('chain_head').select('audit_seq').executeTakeFirstOrThrow();
  return Number(row.audit_seq);
}

async function checkpointSizes(w: World): Promise<number[]> {
  const rows = await w.gw.deps.db.read.selectFrom('audit_checkpoints').select('size').orderBy('size').execute();
  return rows.map((r) => Number(r.size));
}

/**
 * Moves the fake clock and lets the checkpointer finish. On PostgreSQL a pass may still be waiting on
 * the database when advance() returns, and the wake-up it then sets for "now" needs one more advance(0).
 */
async function stepClock(clock: FakeClock, w: World, ms: number): Promise<void> {
  await clock.advance(ms);
  await w.gw.checkpointer.settled();
  await clock.advance(0);
  await w.gw.checkpointer.settled();
}

forEachDialect('audit checkpoints', (dialect) => {
  const open: World[] = [];
  afterEach(async () => {
    for (const w of open.splice(0)) await w.close();
  });
  async function setup(opts: Parameters<typeof world>[1] = QUIET) {
    const w = await world(dialect, opts);
    open.push(w);
    return w;
  }

  test('a checkpoint is a signed note in the tlog-checkpoint format that verifies with nothing but the published JWKS', async () => {
    const w = await setup();
    assert.equal((await call(w, 'GET', '/v1/audit/checkpoints/latest', w.keys.alice)).status, 404);
    await propose(w);
    const cp = await w.gw.checkpointer.checkpointNow();
    assert.ok(cp);
    assert.equal(cp.size, await headSize(w));
    assert.equal(await w.gw.checkpointer.checkpointNow(), null, 'nothing new: nothing signed');

    const json = await call(w, 'GET', '/v1/audit/checkpoints/latest', w.keys.alice);
    assert.equal(json.status, 200);
    assert.equal(json.body.note, cp.note);
    assert.equal(json.body.size, cp.size);
    assert.equal(json.body.kid, w.gw.deps.keyring.active.kid);
    const text = await call(w, 'GET', '/v1/audit/checkpoints/latest', w.keys.agent, undefined, { accept: 'text/plain' });
    assert.equal(text.status, 200, 'agents may read checkpoints too');
    assert.match(String(text.headers['content-type']), /^text\/plain/);
    assert.equal(text.body, cp.note);

    // Checked here by hand, per c2sp.org/signed-note, with only the JWKS: no Countersign code involved.
    const origin = w.gw.deps.config.audit.origin;
    const [body, sigLine] = cp.note.split('\n\n');
    const [entry] = (await auditRows(w)).filter((r) => Number(r.seq) === cp.size);
    assert.equal(body, `${origin}\n${cp.size}\n${Buffer.from(entry?.hash ?? '', 'hex').toString('base64')}`);
    const m = /^\u2014 (\S+) (\S+)\n$/u.exec(sigLine ?? '');
    assert.ok(m, `signature line: ${sigLine}`);
    const [, name, b64] = m as unknown as [string, string, string];
    const kid = w.gw.deps.keyring.active.kid;
    assert.equal(name, `${origin}/${kid}`);
    const jwks = (await call(w, 'GET', '/.well-known/jwks.json')).body as { keys: { kid: string; x: string }[] };
    const jwk = jwks.keys.find((k) => k.kid === kid);
    assert.ok(jwk);
    const raw = Buffer.from(b64, 'base64');
    const pub = Buffer.from(jwk.x, 'base64url');
    const keyId = createHash('sha256')
      .update(Buffer.concat([Buffer.from(`${name}\n`), Buffer.from([1]), pub]))
      .digest()
      .subarray(0, 4);
    assert.deepEqual(raw.subarray(0, 4), keyId, 'key ID = SHA-256(name ‖ \\n ‖ 0x01 ‖ key)[:4]');
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, format: 'jwk' });
    assert.equal(verify(null, Buffer.from(`${body}\n`), key, raw.subarray(4)), true);

    const openapi = (await call(w, 'GET', '/openapi.json')).body;
    const content = openapi.paths['/v1/audit/checkpoints/latest'].get.responses['200'].content;
    assert.deepEqual(Object.keys(content).sort(), ['application/json', 'text/plain']);
  });

  test('the checkpointer signs on its own once checkpoint_every new entries have accumulated', async () => {
    const clock = new FakeClock();
    const w = await setup({ clock, config: withAudit({ checkpointEvery: 40, checkpointIntervalMs: HOUR }) });
    const step = (ms: number) => stepClock(clock, w, ms);
    await step(5_000);
    assert.ok((await headSize(w)) < 40);
    assert.deepEqual(await checkpointSizes(w), []);
    while ((await headSize(w)) < 40) await propose(w);
    await step(250);
    const first = await headSize(w);
    assert.deepEqual(await checkpointSizes(w), [first]);
    await propose(w);
    await step(10_000);
    assert.deepEqual(await checkpointSizes(w), [first], 'a few new entries wait for the next threshold');
    while ((await headSize(w)) < first + 40) await propose(w);
    await step(250);
    assert.deepEqual(await checkpointSizes(w), [first, await headSize(w)]);
    assert.equal((await verifyAudit(w.gw.deps.db.read)).checkpoints.matched, 2);
  });

  test('the checkpointer signs checkpoint_interval after the last checkpoint when there are new entries, and never without them', async () => {
    const clock = new FakeClock();
    const w = await setup({ clock, config: withAudit({ checkpointEvery: 1000, checkpointIntervalMs: 60_000 }) });
    const step = (ms: number) => stepClock(clock, w, ms);
    await step(59_000);
    assert.deepEqual(await checkpointSizes(w), []);
    await step(1_000);
    const first = await headSize(w);
    assert.deepEqual(await checkpointSizes(w), [first]);
    await step(3 * 60_000);
    assert.deepEqual(await checkpointSizes(w), [first], 'no new entries: no new checkpoint');
    // The interval has long passed, so a new entry is covered right away…
    await propose(w);
    await step(250);
    const second = await headSize(w);
    assert.deepEqual(await checkpointSizes(w), [first, second]);
    // …and the next one waits for the interval again.
    await propose(w);
    await step(30_000);
    assert.deepEqual(await checkpointSizes(w), [first, second]);
    await step(30_000);
    assert.deepEqual(await checkpointSizes(w), [first, second, await headSize(w)]);
  });

  test('each new checkpoint goes to checkpoint_command on stdin; a failing command is logged and the gateway carries on', async () => {
    const env = testEnv(dialect);
    const logs: string[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void logs.push(s) });
    const out = join(env.config.dataDir, 'shipped');
    const config = withAudit({
      checkpointIntervalMs: 24 * HOUR,
      checkpointCommand: `cat > "${out}-$COUNTERSIGN_CHECKPOINT_SIZE.txt"; echo "witness unreachable" >&2; exit 3`,
    })(env.config);
    const gw = await startGateway(config, { listen: false, logger, ...(env.schema ? { schema: env.schema } : {}) });
    try {
      const first = await gw.checkpointer.checkpointNow();
      assert.ok(first);
      await gw.checkpointer.shipped();
      assert.equal(readFileSync(`${out}-${first.size}.txt`, 'utf8'), first.note);
      const failure = logs.map((l) => JSON.parse(l)).find((l) => l.msg === 'checkpoint_command failed');
      assert.ok(failure, logs.join(''));
      assert.equal(failure.code, 3);
      assert.equal(failure.size, first.size);
      assert.equal(failure.stderr, 'witness unreachable');

      await addUser(gw.deps, ADMIN, { email: 'later@example.com', role: 'viewer' });
      const second = await gw.checkpointer.checkpointNow();
      assert.ok(second && second.size > first.size);
      await gw.checkpointer.shipped();
      assert.equal(readFileSync(`${out}-${second.size}.txt`, 'utf8'), second.note);
    } finally {
      await gw.close();
      await env.cleanup();
    }
  });
});

describe('two gateways on one PostgreSQL schema', () => {
  test('never store conflicting checkpoints: each size is signed once, and every checkpoint verifies and matches the chain', async () => {
    const a = await world('postgres', QUIET);
    // Node B has its own signing key, as a second host without the shared keyring file would.
    const configB = { ...a.gw.deps.config, signing: { keyringFile: join(a.env.config.dataDir, 'node-b', 'keys.json') } };
    const gwB = await startGateway(configB, {
      listen: false,
      logger: pino({ level: 'silent' }),
      ...(a.env.schema ? { schema: a.env.schema } : {}),
    });
    const b: World = { ...a, gw: gwB };
    try {
      assert.notEqual(gwB.deps.keyring.active.kid, a.gw.deps.keyring.active.kid);
      for (let round = 0; round < 10; round++) {
        await propose(round % 2 ? a : b);
        // Both see the same head: one stores it, the other finds it taken.
        const signed = await Promise.all([a.gw.checkpointer.checkpointNow(), gwB.checkpointer.checkpointNow()]);
        assert.equal(signed.filter((s) => s !== null).length, 1, `round ${round}`);
        // And while both keep writing and signing.
        await Promise.all([propose(a), propose(b), a.gw.checkpointer.checkpointNow(), gwB.checkpointer.checkpointNow(), propose(b)]);
      }
      const rows = await a.gw.deps.db.read.selectFrom('audit_checkpoints').selectAll().orderBy('size').execute();
      assert.ok(rows.length >= 10);
      const hashes = new Map((await auditRows(a)).map((r) => [Number(r.seq), r.hash]));
      for (const r of rows) assert.equal(r.head_hash, hashes.get(Number(r.size)), `checkpoint ${r.size} matches the chain`);
      const result = await verifyAudit(a.gw.deps.db.read);
      assert.equal(result.ok, true, result.firstBad?.problem);
      assert.equal(result.checkpoints.matched, rows.length, 'every stored checkpoint verified against the published keys');
    } finally {
      await gwB.close();
      await a.close();
    }
  });
});

describe('a gateway with an audit origin that cannot be a signed-note key name', () => {
  let env: ReturnType<typeof testEnv>;
  before(() => {
    env = testEnv('sqlite');
  });
  after(async () => env.cleanup());
  test('refuses to start, saying why', async () => {
    const config = withAudit({ origin: 'my log' })(env.config);
    await assert.rejects(startGateway(config, { listen: false, logger: pino({ level: 'silent' }) }), /audit\.origin "my log" must not/);
  });
});
