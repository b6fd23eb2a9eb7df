import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import pino from 'pino';
import { loadConfig } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';
import { verifyAudit } from '../src/domain/audit/verify-audit.js';
import { addAgent } from '../src/domain/identities/add-agent.js';
import { addUser } from '../src/domain/identities/add-user.js';
import { type Gateway, startGateway } from '../src/gateway.js';
import { injectSender, Ledger, loadUntil, mixedLoadStep, proposalTracker, type RefusedProposal } from './fault-ledger.js';
import { ADMIN, withPolicy } from './helpers.js';
import { mountSmallFilesystem, type SmallFilesystem, smallFilesystemUnavailable } from './small-filesystem.js';

// SQLite on a 16 MiB tmpfs that the test fills to the last byte under a mixed load, then frees: writes
// are refused with 503 unavailable (reason storage_full), reads keep working, nothing acknowledged is
// lost, and the gateway writes again once the space is back, without a restart.

const POLICY = withPolicy(`
policy:
  default: review
  rules:
    - { name: reads, when: 'tool == "read_metrics"', effect: allow }
`);
const LOOPS = 6;
const skip = smallFilesystemUnavailable();

describe('faults: SQLite disk full', { skip: skip ?? false }, () => {
  let fs: SmallFilesystem | undefined;
  let gw: Gateway | undefined;
  let config: Config | undefined;
  const ledger = new Ledger();
  const keys = { alice: '', agent: '' };
  const refused: RefusedProposal[] = [];
  const approved = new Set<string>();
  const recoveredLoops = new Set<number>();
  let filled = 0;

  const send = injectSender(() => gw as Gateway);

  const proposeTracked = proposalTracker(ledger, send, () => keys.agent, refused);

  before(async () => {
    fs = mountSmallFilesystem('16m');
    config = POLICY(loadConfig({ env: {}, overrides: { dataDir: fs.dir, port: 0 } }));
    gw = await startGateway(config, { listen: false, logger: pino({ level: 'silent' }) });
    keys.alice = (await addUser(gw.deps, ADMIN, { email: 'alice@example.com', role: 'reviewer' })).apiKey;
    await addUser(gw.deps, ADMIN, { email: 'bob@example.com', role: 'reviewer' });
    keys.agent = (await addAgent(gw.deps, ADMIN, { name: 'deployer', owner: 'bob@example.com' })).apiKey;

    const step = mixedLoadStep({ ledger, send, propose: proposeTracked, reviewerKey: () => keys.alice, approved, pad: 500 });
    let freed = false;
    const disk = fs;
    const g = gw;
    const timeline = (async () => {
      await new Promise((r) => setTimeout(r, 300));
      // An empty WAL first, so the next batch must grow it: the filler then takes every byte it could use.
      await sql`pragma wal_checkpoint(TRUNCATE)`.execute(g.deps.db.write);
      filled = disk.fill();
      ledger.phase = 'full';
      for (let i = 0; i < 250 && (ledger.reasons.get('storage_full') ?? 0) < 20; i++) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 200));
      disk.free();
      ledger.phase = 'freed';
      freed = true;
      for (let i = 0; i < 250 && recoveredLoops.size < LOOPS; i++) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 200));
    })();
    await loadUntil(LOOPS, timeline, async (loop, i) => {
      const a = await step(loop, i);
      if (freed && a && a.status < 300) recoveredLoops.add(loop);
      return a;
    });
  });

  after(async () => {
    await gw?.close();
    fs?.unmount();
  });

  test('with the disk full, writes are refused with 503 unavailable (reason storage_full) and Retry-After, never a 500', (t) => {
    t.diagnostic(`filler ${filled} bytes; while full: sent ${ledger.count('full')}, 503 ${ledger.count('full', 503)}`);
    assert.deepEqual(ledger.unexpected, []);
    assert.ok((ledger.reasons.get('storage_full') ?? 0) >= 20, JSON.stringify([...ledger.reasons]));
  });

  test('reads keep working while the disk is full', async () => {
    const listed = await ledger.track('list', () => send('GET', '/v1/actions?limit=5', keys.alice));
    assert.equal(listed?.status, 200);
    assert.ok(ledger.count('full', 200) > 0, 'lists answered 200 during the fault');
  });

  test('once the filler is deleted every load loop is answered 2xx again, without a restart', () => {
    assert.equal(recoveredLoops.size, LOOPS);
  });

  test('a refused proposal retried with its Idempotency-Key is created once and never licensed to run twice', async () => {
    assert.ok(refused.length > 0);
    for (const r of refused) {
      const a = await proposeTracked(r.key, r.body, r.redeem);
      assert.ok(a?.status === 201 || a?.status === 200, `${r.key}: ${a?.status}`);
    }
    assert.deepEqual(ledger.executedTwice(), []);
  });

  test('nothing acknowledged is lost, on disk: after a restart on the same file every action is there as acknowledged', async (t) => {
    await (gw as Gateway).close();
    gw = await startGateway(config as Config, { listen: false, logger: pino({ level: 'silent' }) });
    const db = gw.deps.db.read;
    let lost = 0;
    for (const [key, id] of ledger.proposals) {
      const row = await db.selectFrom('actions').select(['status', 'redeemed_at']).where('id', '=', id).executeTakeFirst();
      if (!row || (key.startsWith('run-') && row.redeemed_at === null)) lost += 1;
    }
    for (const id of approved) {
      const row = await db.selectFrom('actions').select('status').where('id', '=', id).executeTakeFirst();
      if (row?.status !== 'approved') lost += 1;
    }
    t.diagnostic(`SQLite disk full: ${ledger.summary(lost)}`);
    assert.equal(lost, 0);
    assert.equal((await db.selectFrom('actions').select('id').execute()).length, ledger.proposals.size);
  });

  test('nothing is half-written: one creation entry and event per action, the chain verifies, integrity_check is ok', async () => {
    const db = (gw as Gateway).deps.db.read;
    const orphans = await sql<{ n: number }>`
      select count(*) as n from actions a
       where (select count(*) from audit_log l where l.action_id = a.id and l.event = 'action.created') <> 1
          or (select count(*) from events e where e.action_id = a.id and e.type = 'action.created') <> 1`.execute(db);
    assert.equal(Number(orphans.rows[0]?.n), 0);
    assert.equal((await verifyAudit(db)).ok, true);
    const integrity = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(db);
    assert.deepEqual(
      integrity.rows.map((r) => r.integrity_check),
      ['ok'],
    );
  });
});
