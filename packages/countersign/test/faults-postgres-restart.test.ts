import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import pino from 'pino';
import { loadConfig } from '../src/config/load.js';
import { verifyAudit } from '../src/domain/audit/verify-audit.js';
import { addAgent } from '../src/domain/identities/add-agent.js';
import { addUser } from '../src/domain/identities/add-user.js';
import { type Gateway, startGateway } from '../src/gateway.js';
import { FAULT_POLICY, injectSender, Ledger, loadUntil, mixedLoadStep, proposalTracker, type RefusedProposal } from './fault-ledger.js';
import { ADMIN } from './helpers.js';
import { type PrivatePostgres, privatePostgresUnavailable, startPrivatePostgres } from './private-postgres.js';

// PostgreSQL crashes (pg_ctl stop -m immediate) under a mixed load and comes back: what the gateway said
// during the outage, and whether anything it acknowledged was lost, half-written or licensed twice.
// The cluster is the test's own; the shared server other test files use is never restarted.

const skip = privatePostgresUnavailable();
/** Concurrent request loops: proposals to run, proposals to review, and a reviewer. */
const LOOPS = 6;

describe('faults: PostgreSQL restarted mid-load', { skip: skip ?? false }, () => {
  let server: PrivatePostgres | undefined;
  let gw: Gateway | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'cs-pgfault-'));
  const ledger = new Ledger();
  const keys = { alice: '', agent: '' };
  /** Proposals answered 503, with their body, to be retried with the same Idempotency-Key. */
  const refused: RefusedProposal[] = [];
  /** Reviews answered 200: the action must be approved. */
  const approved = new Set<string>();
  /** Loops that were answered 2xx after the server came back. */
  const recoveredLoops = new Set<number>();

  const send = injectSender(() => gw as Gateway);

  const proposeTracked = proposalTracker(ledger, send, () => keys.agent, refused);

  before(async () => {
    server = await startPrivatePostgres();
    const config = FAULT_POLICY(loadConfig({ env: {}, overrides: { dataDir: dir, port: 0, databaseUrl: server.url } }));
    gw = await startGateway(config, { listen: false, logger: pino({ level: 'silent' }) });
    keys.alice = (await addUser(gw.deps, ADMIN, { email: 'alice@example.com', role: 'reviewer' })).apiKey;
    await addUser(gw.deps, ADMIN, { email: 'bob@example.com', role: 'reviewer' });
    keys.agent = (await addAgent(gw.deps, ADMIN, { name: 'deployer', owner: 'bob@example.com' })).apiKey;

    const step = mixedLoadStep({ ledger, send, propose: proposeTracked, reviewerKey: () => keys.alice, approved });
    let restarted = false;
    const pg = server;
    const timeline = (async () => {
      await new Promise((r) => setTimeout(r, 400));
      ledger.phase = 'crashing';
      await pg.crash();
      ledger.phase = 'down';
      await new Promise((r) => setTimeout(r, 700));
      ledger.phase = 'starting';
      await pg.start();
      ledger.phase = 'after';
      restarted = true;
      // Bounded: every loop must have been answered 2xx again (the pool reconnected by itself).
      for (let i = 0; i < 300 && recoveredLoops.size < LOOPS; i++) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 200));
    })();
    await loadUntil(LOOPS, timeline, async (loop, i) => {
      const a = await step(loop, i);
      if (restarted && a && a.status < 300) recoveredLoops.add(loop);
      return a;
    });
  });

  after(async () => {
    await gw?.close();
    await server?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  test('every answer during the outage is 503 unavailable with Retry-After, never a 500 or another error', (t) => {
    const down = ledger.count('down');
    t.diagnostic(`sent while PostgreSQL was down: ${down}, answered 503: ${ledger.count('down', 503)}`);
    assert.deepEqual(ledger.unexpected, []);
    assert.ok(down > 0);
    assert.equal(ledger.count('down', 503), down, 'every request sent while the server was down was refused');
    assert.ok((ledger.reasons.get('database_unreachable') ?? 0) > 0);
  });

  test('the gateway recovers without a restart: every load loop is answered 2xx again', () => {
    assert.equal(recoveredLoops.size, LOOPS);
  });

  test('every acknowledged proposal and approval is stored as it was acknowledged', async () => {
    const g = gw as Gateway;
    for (const [key, id] of ledger.proposals) {
      const a = await send('GET', `/v1/actions/${id}`, keys.alice);
      assert.equal(a.status, 200, key);
      if (key.startsWith('run-')) assert.notEqual(a.body.redeemed_at, null, `${key} was acknowledged redeemed`);
    }
    for (const id of approved) assert.equal((await send('GET', `/v1/actions/${id}`, keys.alice)).body.status, 'approved');
    assert.ok(ledger.proposals.size > 0 && approved.size > 0);
    assert.equal(
      (
        await g.deps.db.read
          .selectFrom('actions')
          .select('id')
          .where('id', 'in', [...ledger.proposals.values()])
          .execute()
      ).length,
      ledger.proposals.size,
    );
  });

  test('a refused proposal retried with its Idempotency-Key is created once and never licensed to run twice', async (t) => {
    assert.ok(refused.length > 0);
    for (const r of refused) {
      const a = await proposeTracked(r.key, r.body, r.redeem);
      assert.ok(a?.status === 201 || a?.status === 200, `${r.key}: ${a?.status}`);
    }
    assert.deepEqual(ledger.executedTwice(), []);
    // Every key ever sent now names exactly one action: no action without its key, none created twice.
    const g = gw as Gateway;
    const stored = await g.deps.db.read.selectFrom('actions').select(['id', 'idempotency_key']).execute();
    assert.equal(stored.length, ledger.proposals.size);
    t.diagnostic(`PostgreSQL restart: ${ledger.summary(0)}`);
  });

  test('nothing is half-written: each action has one creation entry and one creation event, and the chain verifies', async () => {
    const db = (gw as Gateway).deps.db.read;
    const orphans = await sql<{ n: number }>`
      select count(*)::int as n from actions a
       where (select count(*) from audit_log l where l.action_id = a.id and l.event = 'action.created') <> 1
          or (select count(*) from events e where e.action_id = a.id and e.type = 'action.created') <> 1`.execute(db);
    assert.equal(orphans.rows[0]?.n, 0);
    const verified = await verifyAudit(db);
    assert.equal(verified.ok, true, JSON.stringify(verified));
  });

  test('after the outage a waiter is woken by a decision and /readyz answers ok', async () => {
    const asked = await send('POST', '/v1/actions', keys.agent, { tool: 'deploy', arguments: { after: true } });
    assert.equal(asked.status, 201);
    const waiter = send('GET', `/v1/actions/${asked.body.id}?wait=10`, keys.agent);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await send('POST', `/v1/actions/${asked.body.id}/reviews`, keys.alice, { decision: 'deny', reason: 'no' })).status, 200);
    assert.equal((await waiter).body.status, 'denied');
    assert.equal((await send('GET', '/readyz', keys.alice)).status, 200);
  });
});
