import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
import { type PrivatePostgres, privatePostgresUnavailable, startPrivatePostgres } from './private-postgres.js';
import { mountSmallFilesystem, type SmallFilesystem, smallFilesystemUnavailable } from './small-filesystem.js';

// A PostgreSQL cluster of the test's own on a 96 MiB tmpfs, filled to the last byte under a mixed load,
// then freed. PostgreSQL refuses to extend a table (SQLSTATE 53100 disk_full) and rolls the transaction
// back; the gateway must say 503 unavailable (reason storage_full), keep answering reads, lose nothing it
// acknowledged, and write again once the space is back, with neither the gateway nor the database restarted.
// The WAL is kept small (1 MiB segments, max_wal_size 8 MB) so it recycles its own segments and the
// data files are what run out, as on a volume that fills up in production.

const POLICY = withPolicy(`
policy:
  default: review
  rules:
    - { name: reads, when: 'tool == "read_metrics"', effect: allow }
`);
const LOOPS = 6;
const skip = smallFilesystemUnavailable() ?? privatePostgresUnavailable();

describe('faults: PostgreSQL disk full', { skip: skip ?? false }, () => {
  let disk: SmallFilesystem | undefined;
  let server: PrivatePostgres | undefined;
  let gw: Gateway | undefined;
  let config: Config | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'cs-pgfull-'));
  const ledger = new Ledger();
  const keys = { alice: '', agent: '' };
  const refused: RefusedProposal[] = [];
  const approved = new Set<string>();
  const recoveredLoops = new Set<number>();
  let filled = 0;

  const send = injectSender(() => gw as Gateway);
  const proposeTracked = proposalTracker(ledger, send, () => keys.agent, refused);

  before(async () => {
    disk = mountSmallFilesystem('96m');
    server = await startPrivatePostgres({
      parent: disk.dir,
      initdb: ['--wal-segsize=1'],
      settings: ['min_wal_size=4MB', 'max_wal_size=8MB'],
    });
    config = POLICY(loadConfig({ env: {}, overrides: { dataDir, port: 0, databaseUrl: server.url } }));
    gw = await startGateway(config, { listen: false, logger: pino({ level: 'silent' }) });
    keys.alice = (await addUser(gw.deps, ADMIN, { email: 'alice@example.com', role: 'reviewer' })).apiKey;
    await addUser(gw.deps, ADMIN, { email: 'bob@example.com', role: 'reviewer' });
    keys.agent = (await addAgent(gw.deps, ADMIN, { name: 'deployer', owner: 'bob@example.com' })).apiKey;

    const step = mixedLoadStep({ ledger, send, propose: proposeTracked, reviewerKey: () => keys.alice, approved, pad: 2000 });
    let freed = false;
    const fs = disk;
    const timeline = (async () => {
      await new Promise((r) => setTimeout(r, 300));
      filled = fs.fill();
      ledger.phase = 'full';
      // Rows still fit in the free space of pages already allocated; the refusals start once those are used up.
      for (let i = 0; i < 500 && (ledger.reasons.get('storage_full') ?? 0) < 20; i++) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 200));
      fs.free();
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
    await server?.destroy();
    disk?.unmount();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('with the disk full, writes are refused with 503 unavailable (reason storage_full) and Retry-After, never a 500', (t) => {
    t.diagnostic(`filler ${filled} bytes; while full: sent ${ledger.count('full')}, 503 ${ledger.count('full', 503)}`);
    assert.deepEqual(ledger.unexpected, []);
    assert.ok((ledger.reasons.get('storage_full') ?? 0) >= 10, JSON.stringify([...ledger.reasons]));
  });

  test('reads keep working while the disk is full', () => {
    assert.ok(ledger.count('full', 200) > 0, 'reads and lists were answered 200 during the fault');
  });

  test('once the filler is deleted every load loop is answered 2xx again, with no restart of either side', () => {
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

  test('nothing acknowledged is lost: after a gateway restart every action is stored as it was acknowledged', async (t) => {
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
    t.diagnostic(`PostgreSQL disk full: ${ledger.summary(lost)}`);
    assert.equal(lost, 0);
    assert.equal((await db.selectFrom('actions').select('id').execute()).length, ledger.proposals.size);
  });

  test('nothing is half-written: one creation entry and event per action, and the chain verifies', async () => {
    const db = (gw as Gateway).deps.db.read;
    const orphans = await sql<{ n: number }>`
      select count(*)::int as n from actions a
       where (select count(*) from audit_log l where l.action_id = a.id and l.event = 'action.created') <> 1
          or (select count(*) from events e where e.action_id = a.id and e.type = 'action.created') <> 1`.execute(db);
    assert.equal(orphans.rows[0]?.n, 0);
    const verified = await verifyAudit(db);
    assert.equal(verified.ok, true, JSON.stringify(verified));
  });
});
