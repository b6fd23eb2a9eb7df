/**
 * One policy for all nodes: how long a policy applied on gateway A takes to be in force on gateway B
 * (same database, two gateways in this process), by B's one-second check alone and by a
 * `policy.activated` event on B's bus (what the cross-node feed delivers); what an apply costs; what
 * B's check costs. See bench/README.md.
 *
 *   node --import tsx bench/policy-switch.ts
 *   BENCH_POLICY_SWITCH_N=50 node --import tsx bench/policy-switch.ts
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { loadConfig } from '../packages/countersign/src/config/load.js';
import { applyPolicy } from '../packages/countersign/src/domain/policy/apply-policy.js';
import { readActiveVersion } from '../packages/countersign/src/domain/policy/versions.js';
import { readAfter } from '../packages/countersign/src/events/outbox.js';
import { type Gateway, startGateway } from '../packages/countersign/src/gateway.js';
import { parsePolicyDocument } from '../packages/countersign/src/policy/document.js';

const N = Number(process.env.BENCH_POLICY_SWITCH_N ?? 20);
const READS = 5000;
const PG_URL = process.env.COUNTERSIGN_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ADMIN = { type: 'admin' as const, id: 'bench' };

/** A realistic document: 50 rules and two workflows, different on every apply. */
function documentFor(i: number) {
  const rules = Array.from(
    { length: 50 },
    (_, r) => `    - { name: r${r}, when: 'tool == "t${r}" && arguments.n > ${i}', effect: review }`,
  );
  return parsePolicyDocument(
    `policy:\n  rules:\n${rules.join('\n')}\nworkflows:\n  two:\n    expires_after: 1h\n    stages: [{ approvers: { roles: [reviewer] }, quorum: 2 }]\n`,
  );
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;
const row = (label: string, xs: number[], unit = 'ms') =>
  `${label.padEnd(44)} p50 ${pct(xs, 50).toFixed(2).padStart(8)} ${unit}   p99 ${pct(xs, 99).toFixed(2).padStart(8)} ${unit}   max ${Math.max(
    ...xs,
  )
    .toFixed(2)
    .padStart(8)} ${unit}`;

async function waitFor(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setImmediate(r));
}

async function run(dialect: 'sqlite' | 'postgres'): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cs-bench-policy-'));
  const schema = dialect === 'postgres' ? `cs_bench_${randomBytes(6).toString('hex')}` : undefined;
  const config = loadConfig({ env: {}, overrides: { dataDir: dir, port: 0, ...(schema ? { databaseUrl: PG_URL } : {}) } });
  const start = (policyCheckMs?: number) =>
    startGateway(config, {
      listen: false,
      logger: pino({ level: 'silent' }),
      ...(schema ? { schema } : {}),
      ...(policyCheckMs ? { policyCheckMs } : {}),
    });
  const gateways: Gateway[] = [];
  try {
    const a = await start();
    gateways.push(a);
    const b = await start();
    gateways.push(b);
    const c = await start(3_600_000); // hears only events
    gateways.push(c);
    const apply: number[] = [];
    const byCheck: number[] = [];
    const byEvent: number[] = [];
    for (let i = 0; i < N; i++) {
      // Applies come at random moments relative to B's check, as they do in life.
      await new Promise((r) => setTimeout(r, Math.random() * 1000));
      const t0 = performance.now();
      const change = await applyPolicy(a.deps, ADMIN, 'bench', { document: documentFor(i) });
      const t1 = performance.now();
      apply.push(t1 - t0);
      const v = change.version.version;
      const event = (await readAfter(a.deps.db.read, 0)).filter((e) => e.type === 'policy.activated').at(-1);
      const t2 = performance.now();
      if (event) c.deps.bus.publish([event]);
      await waitFor(() => c.deps.policy.version === v);
      byEvent.push(performance.now() - t2);
      await waitFor(() => b.deps.policy.version === v);
      byCheck.push(performance.now() - t1);
    }
    const reads: number[] = [];
    for (let i = 0; i < READS; i++) {
      const t = performance.now();
      await readActiveVersion(b.deps.db.read);
      reads.push((performance.now() - t) * 1000);
    }
    console.log(`\n${dialect}: ${N} applies of a 50-rule policy on A; B and C share the database`);
    console.log(row('apply on A (compile + one transaction)', apply));
    console.log(row('in force on B by its check alone (no events)', byCheck));
    console.log(row('in force on C from policy.activated on its bus', byEvent));
    console.log(row(`B's check: one read of policy_active (${READS}x)`, reads, 'µs'));
  } finally {
    for (const gw of gateways.reverse()) await gw.close();
    if (schema) {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`drop schema if exists ${schema} cascade`);
      await client.end();
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

await run('sqlite');
await run('postgres');
