/**
 * The disk-full fault, once for both databases: a gateway on a small filesystem of the test's own, filled to
 * the last byte under a mixed load, then freed. Writes must be refused with 503 unavailable (reason
 * storage_full), reads keep working, nothing acknowledged is lost or licensed twice, nothing is half-written,
 * and the gateway writes again once the space is back, without a restart.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import pino from 'pino';
import type { Config } from '../src/config/schema.js';
import { verifyAudit } from '../src/domain/audit/verify-audit.js';
import { addAgent } from '../src/domain/identities/add-agent.js';
import { addUser } from '../src/domain/identities/add-user.js';
import { type Gateway, startGateway } from '../src/gateway.js';
import { injectSender, Ledger, loadUntil, mixedLoadStep, proposalTracker, type RefusedProposal } from './fault-ledger.js';
import { ADMIN } from './helpers.js';
import type { SmallFilesystem } from './small-filesystem.js';

const LOOPS = 6;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface DiskFullCase {
  /** The database's name in diagnostics. */
  name: string;
  /** Why the case cannot run here, or null. */
  skip: string | null;
  /** Mounts the filesystem and makes the gateway's configuration on it. */
  setup(): Promise<{ disk: SmallFilesystem; config: Config; teardown(): Promise<void> }>;
  /** Characters of padding per proposal, so the disk fills in a few hundred requests. */
  pad: number;
  /** Run just before the filler, e.g. to empty SQLite's WAL so the next batch must grow it. */
  beforeFill?(gw: Gateway): Promise<void>;
  /** More on-disk checks after the restart (SQLite's integrity_check). */
  checkStorage?(gw: Gateway): Promise<void>;
}

export function describeDiskFull(c: DiskFullCase): void {
  describe(`faults: ${c.name} disk full`, { skip: c.skip ?? false }, () => {
    let env: Awaited<ReturnType<DiskFullCase['setup']>> | undefined;
    let gw: Gateway | undefined;
    const ledger = new Ledger();
    const keys = { alice: '', agent: '' };
    const refused: RefusedProposal[] = [];
    const approved = new Set<string>();
    const recoveredLoops = new Set<number>();
    let filled = 0;
    const send = injectSender(() => gw as Gateway);
    const proposeTracked = proposalTracker(ledger, send, () => keys.agent, refused);
    const start = (config: Config) => startGateway(config, { listen: false, logger: pino({ level: 'silent' }) });

    before(async () => {
      env = await c.setup();
      const g = await start(env.config);
      gw = g;
      keys.alice = (await addUser(g.deps, ADMIN, { email: 'alice@example.com', role: 'reviewer' })).apiKey;
      await addUser(g.deps, ADMIN, { email: 'bob@example.com', role: 'reviewer' });
      keys.agent = (await addAgent(g.deps, ADMIN, { name: 'deployer', owner: 'bob@example.com' })).apiKey;

      const step = mixedLoadStep({ ledger, send, propose: proposeTracked, reviewerKey: () => keys.alice, approved, pad: c.pad });
      let freed = false;
      const disk = env.disk;
      const timeline = (async () => {
        await sleep(300);
        await c.beforeFill?.(g);
        filled = disk.fill();
        ledger.phase = 'full';
        // Some rows still fit in space already allocated; the refusals start once it is used up.
        for (let i = 0; i < 500 && (ledger.reasons.get('storage_full') ?? 0) < 20; i++) await sleep(20);
        await sleep(200);
        disk.free();
        ledger.phase = 'freed';
        freed = true;
        for (let i = 0; i < 250 && recoveredLoops.size < LOOPS; i++) await sleep(20);
        await sleep(200);
      })();
      await loadUntil(LOOPS, timeline, async (loop, i) => {
        const a = await step(loop, i);
        if (freed && a && a.status < 300) recoveredLoops.add(loop);
        return a;
      });
    });

    after(async () => {
      await gw?.close();
      await env?.teardown();
    });

    test('with the disk full, writes are refused with 503 unavailable (reason storage_full) and Retry-After, never a 500', (t) => {
      t.diagnostic(`filler ${filled} bytes; while full: sent ${ledger.count('full')}, 503 ${ledger.count('full', 503)}`);
      assert.deepEqual(ledger.unexpected, []);
      assert.ok((ledger.reasons.get('storage_full') ?? 0) >= 10, JSON.stringify([...ledger.reasons]));
    });

    test('reads keep working while the disk is full', async () => {
      const listed = await ledger.track('list', () => send('GET', '/v1/actions?limit=5', keys.alice));
      assert.equal(listed?.status, 200);
      assert.ok(ledger.count('full', 200) > 0, 'reads and lists were answered 200 during the fault');
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

    test('nothing acknowledged is lost: after a gateway restart every action is stored as it was acknowledged', async (t) => {
      await (gw as Gateway).close();
      gw = await start((env as NonNullable<typeof env>).config);
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
      t.diagnostic(`${c.name} disk full: ${ledger.summary(lost)}`);
      assert.equal(lost, 0);
      assert.equal((await db.selectFrom('actions').select('id').execute()).length, ledger.proposals.size);
    });

    test('nothing is half-written: one creation entry and event per action, and the chain verifies', async () => {
      const g = gw as Gateway;
      const orphans = await sql<{ n: number | string }>`
        select count(*) as n from actions a
         where (select count(*) from audit_log l where l.action_id = a.id and l.event = 'action.created') <> 1
            or (select count(*) from events e where e.action_id = a.id and e.type = 'action.created') <> 1`.execute(g.deps.db.read);
      assert.equal(Number(orphans.rows[0]?.n), 0);
      const verified = await verifyAudit(g.deps.db.read);
      assert.equal(verified.ok, true, JSON.stringify(verified));
      await c.checkStorage?.(g);
    });
  });
}
