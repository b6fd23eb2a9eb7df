/**
 * `audit verify` throughput on a long chain: builds a 1,000,000-entry audit log in a SQLite
 * database (realistic entries, a signed checkpoint every 1,000), then times verifyAudit, the
 * function behind `countersign audit verify`. See bench/README.md.
 *
 *   node --import tsx bench/audit-verify.ts
 *   BENCH_AUDIT_N=200000 node --import tsx bench/audit-verify.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { loadOrCreateKeyring } from '../packages/countersign/src/crypto/keyring.js';
import { openDatabase } from '../packages/countersign/src/db/connect.js';
import { auditEntryHash, GENESIS_HASH } from '../packages/countersign/src/domain/audit/chain.js';
import { signCheckpoint } from '../packages/countersign/src/domain/audit/checkpoint-note.js';
import { verifyAudit } from '../packages/countersign/src/domain/audit/verify-audit.js';
import { canonicalJson } from '../packages/countersign/src/lib/canonical.js';
import { newId } from '../packages/countersign/src/lib/ids.js';

const N = Number(process.env.BENCH_AUDIT_N ?? 1_000_000);
const RUNS = Number(process.env.BENCH_AUDIT_RUNS ?? 3);
const CHECKPOINT_EVERY = 1000;
const TARGET = 150_000;
const ORIGIN = 'bench.countersign.example';

const dir = mkdtempSync(join(tmpdir(), 'cs-bench-audit-'));
const file = join(dir, 'audit.db');

/** One approved action's life in the log, with arguments of varying size (the shapes the gateway writes). */
function lifecycle(
  i: number,
  t: number,
): { actor_type: string; actor_id: string | null; event: string; action_id: string; data: unknown }[] {
  const action = newId();
  const agent = `agent-${i % 50}`;
  const reviewer = `user-${i % 20}`;
  const command = `kubectl rollout restart deployment/service-${i % 400} --namespace team-${i % 30}`.repeat(1 + (i % 4));
  return [
    {
      actor_type: 'agent',
      actor_id: agent,
      event: 'action.created',
      action_id: action,
      data: {
        arguments: { command, env: i % 3 ? 'production' : 'staging', replicas: i % 7 },
        on_behalf_of: i % 5 ? null : `person${i % 100}@example.com`,
        parent_id: null,
        policy: {
          effect: 'review',
          errors: [],
          hash: 'fe883930748639051a3733adc3084a46b7fd1c1c500b2d7f1c9bc3a84e4ec605',
          reason: null,
          rule: 'prod-shell',
          workflow: 'default',
        },
        resource: `k8s://prod/service-${i % 400}`,
        session_id: `session-${i % 1000}`,
        stage: 'review',
        status: 'pending',
        tool: 'shell',
      },
    },
    {
      actor_type: 'user',
      actor_id: reviewer,
      event: 'action.reviewed',
      action_id: action,
      data: { channel: 'api', decision: 'approve', edited: false, reason: null, reviewer: `${reviewer}@example.com`, stage: 'review' },
    },
    {
      actor_type: 'user',
      actor_id: reviewer,
      event: 'action.approved',
      action_id: action,
      data: { by: `${reviewer}@example.com`, reason: null, version: 2 },
    },
    {
      actor_type: 'system',
      actor_id: null,
      event: 'receipt.issued',
      action_id: action,
      data: {
        action_sha256: 'a7be8628ab083317d3f402276529dd7707f6b63e388c2e75e800a0f80e29ecca',
        approved_by: { id: reviewer, label: `${reviewer}@example.com`, type: 'user' },
        execute_by: new Date(t + 600_000).toISOString(),
        jti: newId(),
        kid: 'JIDOGuDlQauy9PqRQyBbTx7Jh_KmMpVIVVOne6LqQP4',
      },
    },
    { actor_type: 'agent', actor_id: agent, event: 'receipt.redeemed', action_id: action, data: { jti: newId() } },
    { actor_type: 'agent', actor_id: agent, event: 'action.executed', action_id: action, data: { outcome: 'succeeded', version: 3 } },
  ];
}

async function build(): Promise<{ bytes: number; seconds: number }> {
  const started = performance.now();
  // Migrated schema (tables, indexes, append-only triggers) exactly as the gateway has it.
  await (await openDatabase({ url: `sqlite:${file}` })).close();
  const { keyring } = await loadOrCreateKeyring(join(dir, 'keys.json'), new Date());
  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const insert = db.prepare(
    'insert into audit_log (seq, ts, actor_type, actor_id, event, action_id, data, prev_hash, hash) values (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const insertCheckpoint = db.prepare('insert into audit_checkpoints (size, head_hash, kid, note, created_at) values (?, ?, ?, ?, ?)');
  db.prepare('insert into signing_keys (kid, public_jwk, created_at) values (?, ?, ?)').run(
    keyring.active.kid,
    JSON.stringify(keyring.active.publicJwk),
    Date.now(),
  );
  let prev = GENESIS_HASH;
  let bytes = 0;
  let seq = 0;
  const t0 = Date.UTC(2026, 0, 1);
  const chunk = db.transaction((from: number) => {
    for (let i = from; seq < N && i < from + 10_000; i++) {
      const ts = t0 + i * 1000;
      for (const e of lifecycle(i, ts)) {
        if (seq >= N) break;
        seq += 1;
        const fields = {
          seq,
          ts,
          actor_type: e.actor_type,
          actor_id: e.actor_id,
          event: e.event,
          action_id: e.action_id,
          data: canonicalJson(e.data),
        };
        const hash = auditEntryHash(prev, fields);
        insert.run(seq, ts, fields.actor_type, fields.actor_id, fields.event, fields.action_id, fields.data, prev, hash);
        bytes += fields.data.length;
        prev = hash;
        if (seq % CHECKPOINT_EVERY === 0)
          insertCheckpoint.run(seq, hash, keyring.active.kid, signCheckpoint(keyring, ORIGIN, seq, hash), ts);
      }
    }
  });
  for (let i = 0; seq < N; i += 10_000) chunk(i);
  db.prepare('update chain_head set audit_seq = ?, audit_hash = ? where id = 1').run(seq, prev);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return { bytes, seconds: (performance.now() - started) / 1000 };
}

async function measure(label: string, run: () => ReturnType<typeof verifyAudit>): Promise<number | null> {
  const rates: number[] = [];
  for (let i = 1; i <= RUNS; i++) {
    const t = performance.now();
    const r = await run();
    const seconds = (performance.now() - t) / 1000;
    if (!r.ok || r.entries !== N || r.checkpoints.matched !== Math.floor(N / CHECKPOINT_EVERY)) {
      console.error(`FAILURE (${label}): the chain did not verify`, r);
      return null;
    }
    rates.push(N / seconds);
    console.log(`  ${label} run ${i}: ${seconds.toFixed(2)} s, ${Math.round(N / seconds).toLocaleString('en')} entries/s`);
  }
  return [...rates].sort((a, b) => a - b)[Math.floor(rates.length / 2)] ?? 0;
}

async function main(): Promise<void> {
  process.stdout.write(`building a ${N.toLocaleString('en')}-entry chain in ${file} … `);
  const built = await build();
  console.log(`${built.seconds.toFixed(1)} s (mean data ${Math.round(built.bytes / N)} bytes/entry)`);
  const url = `sqlite:${file}`;
  const db = await openDatabase({ url });
  try {
    // What `countersign audit verify` runs: this thread plus worker threads on their own connections.
    const cli = await measure('audit verify', () => verifyAudit(db.read, { connection: { url } }));
    const single = await measure('one thread  ', () => verifyAudit(db.read));
    if (cli === null || single === null) {
      process.exitCode = 1;
      return;
    }
    const fmt = (n: number) => Math.round(n).toLocaleString('en');
    console.log(
      `\naudit verify (${N.toLocaleString('en')} entries, ${Math.floor(N / CHECKPOINT_EVERY)} signed checkpoints, ${availableParallelism()} cores): ` +
        `median ${fmt(cli)} entries/s; one thread ${fmt(single)} entries/s (target ≥ ${fmt(TARGET)}: ${cli >= TARGET ? 'met' : 'NOT MET'})`,
    );
  } finally {
    await db.close();
    if (!process.env.BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
