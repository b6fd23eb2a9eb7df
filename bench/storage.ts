/**
 * Storage per action (issue 19): drives 10,000 actions of a realistic mix through the real HTTP API of an
 * in-process gateway (policy-allowed and redeemed with the proposal, reviewed and approved, denied by the
 * policy or a reviewer, edited then approved; every approval redeemed and its result reported), on a fresh
 * SQLite file and a fresh PostgreSQL schema, and prints the bytes each action added per table (data and
 * indexes) and the SQLite file growth per 10k actions (after a WAL checkpoint). See bench/README.md.
 *
 *   npm run bench:storage
 *   BENCH_STORAGE_N=1000 BENCH_STORAGE_DIALECTS=sqlite npm run bench:storage
 */
import { statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import pino from 'pino';
import { parse as parseYaml } from 'yaml';
import { policySection } from '../packages/countersign/src/config/load.js';
import { type Config, ConfigFileSchema } from '../packages/countersign/src/config/schema.js';
import { addAgent } from '../packages/countersign/src/domain/identities/add-agent.js';
import { addUser } from '../packages/countersign/src/domain/identities/add-user.js';
import { type Gateway, startGateway } from '../packages/countersign/src/gateway.js';
import { benchDatabase, PG_URL } from './bench-database.js';

const N = Number(process.env.BENCH_STORAGE_N ?? 10_000);
const DIALECTS = (process.env.BENCH_STORAGE_DIALECTS ?? 'sqlite,postgres').split(',');
const ADMIN = { type: 'admin' as const, id: 'bench' };
const log = (s: string) => process.stderr.write(`${s}\n`);
const loadLine = () =>
  `load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`;

const POLICY = `
policy:
  rules:
    - { name: reads, when: 'tool == "read_file" || tool == "search"', effect: allow }
    - { name: no-drop, when: 'tool == "drop_table"', effect: deny, reason: dropping tables is never allowed }
    - { name: changes, when: 'tool == "shell" || tool == "send_email"', effect: review, workflow: ops }
workflows:
  ops:
    stages:
      - { name: ops, approvers: { groups: [ops] } }
`;

/** Arguments of the sizes agents send: short reads, shell commands of a line or two, e-mails with a body. */
function argumentsFor(tool: string, i: number): Record<string, unknown> {
  switch (tool) {
    case 'read_file':
      return { path: `/srv/app/config/service-${i % 400}.yaml` };
    case 'search':
      return { query: `error rate spike service-${i % 400} last 24h`, limit: 20 };
    case 'drop_table':
      return { database: 'orders', table: `orders_${2020 + (i % 6)}` };
    case 'shell':
      return {
        command: `kubectl -n team-${i % 30} rollout restart deployment/service-${i % 400} && kubectl -n team-${i % 30} rollout status deployment/service-${i % 400} --timeout=120s`,
        cwd: '/srv/ops',
        env: i % 3 ? 'production' : 'staging',
      };
    default:
      return {
        to: [`customer${i % 5000}@example.com`],
        cc: i % 4 ? [] : ['support-lead@example.com'],
        subject: `Re: your ticket #${100_000 + i} about the invoice for order ${i * 7}`,
        body: `Hello,\n\nthank you for writing to us. We looked into ticket #${100_000 + i} and found that the invoice for order ${i * 7} was issued twice because a retry of the payment provider's webhook was not recognised as a duplicate. We have cancelled the second invoice and the refund of the duplicate charge is on its way; it usually takes three to five business days to appear on your statement.\n\nWe are sorry for the trouble. If anything else looks wrong, reply to this e-mail and it will reach the same team.\n\nKind regards,\nThe billing team`.repeat(
          1 + (i % 2),
        ),
      };
  }
}

/** Of every 20 actions: 8 allowed, 6 reviewed and approved, 2 denied by the policy, 2 by a reviewer, 2 edited then approved. */
const MIX = ['read_file', 'search', 'read_file', 'search', 'read_file', 'search', 'read_file', 'search'] as const;
type Kind = 'allowed' | 'approved' | 'policy-denied' | 'reviewer-denied' | 'edited';
function kindOf(i: number): Kind {
  const r = i % 20;
  if (r < 8) return 'allowed';
  if (r < 14) return 'approved';
  if (r < 16) return 'policy-denied';
  if (r < 18) return 'reviewer-denied';
  return 'edited';
}

interface Keys {
  agent: string;
  reviewer: string;
}

async function call(gw: Gateway, method: 'POST', url: string, key: string, body: unknown): Promise<Record<string, unknown>> {
  const r = await gw.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    payload: JSON.stringify(body),
  });
  if (r.statusCode >= 300) throw new Error(`${url}: ${r.statusCode} ${r.body.slice(0, 300)}`);
  return JSON.parse(r.body) as Record<string, unknown>;
}

/** One action's whole life through the API. */
async function lifecycle(gw: Gateway, keys: Keys, i: number): Promise<void> {
  const kind = kindOf(i);
  const tool =
    kind === 'allowed'
      ? MIX[i % MIX.length]
      : kind === 'policy-denied'
        ? 'drop_table'
        : kind === 'edited' || i % 2
          ? 'send_email'
          : 'shell';
  const args = argumentsFor(tool as string, i);
  const body = {
    tool,
    arguments: args,
    resource: tool === 'send_email' ? `mailto:customer${i % 5000}@example.com` : `k8s://prod/service-${i % 400}`,
    purpose: `ticket #${100_000 + i}`,
    session_id: `run-${Math.floor(i / 10)}`,
  };
  if (kind === 'allowed') {
    const a = await call(gw, 'POST', '/v1/actions?redeem=true', keys.agent, body);
    await call(gw, 'POST', `/v1/actions/${a.id}/result`, keys.agent, { outcome: 'succeeded', output: { bytes: 512 + (i % 2048) } });
    return;
  }
  const a = await call(gw, 'POST', '/v1/actions', keys.agent, body);
  if (kind === 'policy-denied') return;
  const id = a.id as string;
  if (kind === 'reviewer-denied') {
    await call(gw, 'POST', `/v1/actions/${id}/reviews`, keys.reviewer, { decision: 'deny', reason: 'not during the freeze' });
    return;
  }
  const edited = kind === 'edited' ? { ...args, subject: `${String(args.subject)} (corrected)` } : undefined;
  const approved = await call(gw, 'POST', `/v1/actions/${id}/reviews`, keys.reviewer, {
    decision: 'approve',
    ...(edited ? { arguments: edited, reason: 'fixed the subject' } : {}),
  });
  const view = approved as { receipt: string; tool: string; arguments: unknown; resource: unknown };
  await call(gw, 'POST', '/v1/receipts/redeem', keys.agent, {
    receipt: view.receipt,
    action: { id, tool: view.tool, arguments: view.arguments, resource: view.resource },
  });
  await call(gw, 'POST', `/v1/actions/${id}/result`, keys.agent, { outcome: i % 10 === 0 ? 'failed' : 'succeeded' });
}

/** Bytes per table (its rows) and per table's indexes. */
type Sizes = Map<string, { data: number; index: number }>;

function sqliteSizes(file: string): { sizes: Sizes; fileBytes: number } {
  const db = new BetterSqlite3(file);
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
    const owner = new Map(
      (
        db.prepare(`select name, tbl_name from sqlite_master where type in ('table', 'index')`).all() as {
          name: string;
          tbl_name: string;
        }[]
      ).map((r) => [r.name, r.tbl_name]),
    );
    const types = new Map(
      (db.prepare(`select name, type from sqlite_master`).all() as { name: string; type: string }[]).map((r) => [r.name, r.type]),
    );
    const sizes: Sizes = new Map();
    for (const r of db.prepare('select name, sum(pgsize) as bytes from dbstat group by name').all() as { name: string; bytes: number }[]) {
      const table = owner.get(r.name) ?? r.name;
      const s = sizes.get(table) ?? { data: 0, index: 0 };
      if (types.get(r.name) === 'index') s.index += r.bytes;
      else s.data += r.bytes;
      sizes.set(table, s);
    }
    return { sizes, fileBytes: statSync(file).size };
  } finally {
    db.close();
  }
}

/** PostgreSQL: the bytes of the live rows (pg_column_size), without the free space updates leave behind. */
async function pgLiveBytes(schema: string): Promise<Map<string, number>> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    const out = new Map<string, number>();
    for (const t of ['actions', 'receipts', 'frozen_documents', 'audit_log', 'events', 'reviews']) {
      // A table a run before its migration lacks counts as empty.
      const exists = await c.query(`select 1 from pg_tables where schemaname = $1 and tablename = $2`, [schema, t]);
      if (exists.rowCount === 0) continue;
      const r = await c.query<{ n: string }>(`select coalesce(sum(pg_column_size(t.*)), 0) as n from ${schema}.${t} t`);
      out.set(t, Number(r.rows[0]?.n ?? 0));
    }
    return out;
  } finally {
    await c.end();
  }
}

/**
 * BENCH_STORAGE_AUTOVACUUM=off: the schema's tables keep every row version until the bench's own VACUUM, so
 * the heap figures count each version written (no reuse of freed space mid-run) and do not move with when
 * autovacuum happened to run on a loaded machine. Per table (a reloption): the server's setting is untouched.
 */
async function autovacuumOff(schema: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    const tables = await c.query<{ name: string }>(`select tablename as name from pg_tables where schemaname = $1`, [schema]);
    for (const t of tables.rows) await c.query(`alter table ${schema}.${t.name} set (autovacuum_enabled = false)`);
  } finally {
    await c.end();
  }
}

async function pgSizes(schema: string): Promise<Sizes> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    const tables = await c.query<{ name: string }>(`select tablename as name from pg_tables where schemaname = $1`, [schema]);
    for (const t of tables.rows) await c.query(`vacuum ${schema}.${t.name}`);
    const r = await c.query<{ name: string; data: string; index: string }>(
      `select c.relname as name, pg_table_size(c.oid) as data, pg_indexes_size(c.oid) as index
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = $1 and c.relkind = 'r'`,
      [schema],
    );
    return new Map(r.rows.map((row) => [row.name, { data: Number(row.data), index: Number(row.index) }]));
  } finally {
    await c.end();
  }
}

/** The tables an action writes to; everything else is summed as "other". */
// frozen_documents (migration 028): an action's policy decision and workflow, once per distinct text.
// receipts (migration 029): an approved action's receipt, once, apart from its row.
const TABLES = ['actions', 'receipts', 'frozen_documents', 'audit_log', 'events', 'reviews', 'stats_rollup', 'timers'] as const;

interface Result {
  dialect: string;
  perAction: Map<string, { data: number; index: number }>;
  total: number;
  fileGrowthPer10k: number | null;
  payload: { audit: number; events: number };
  /** PostgreSQL: live row bytes per action, per table. */
  live: Map<string, number>;
}

function growth(before: Sizes, after: Sizes): Map<string, { data: number; index: number }> {
  const out = new Map<string, { data: number; index: number }>();
  for (const [name, a] of after) {
    const b = before.get(name) ?? { data: 0, index: 0 };
    const key = (TABLES as readonly string[]).includes(name) ? name : 'other';
    const s = out.get(key) ?? { data: 0, index: 0 };
    s.data += (a.data - b.data) / N;
    s.index += (a.index - b.index) / N;
    out.set(key, s);
  }
  return out;
}

async function run(dialect: string): Promise<Result> {
  const bench = benchDatabase(dialect, 'storage');
  const { schema } = bench;
  const yaml = policySection(ConfigFileSchema.parse(parseYaml(POLICY)));
  // No periodic chain verification, no retention pass: the measurement sees what the writes add.
  const config: Config = {
    ...bench.config,
    ...yaml,
    audit: { ...bench.config.audit, verifyIntervalMs: 0 },
    events: { ...bench.config.events, retentionMs: 0 },
  };
  const file = join(bench.config.dataDir, 'countersign.db');
  const start = () => startGateway(config, { listen: false, logger: pino({ level: 'silent' }), ...(schema ? { schema } : {}) });
  try {
    let gw = await start();
    if (schema && process.env.BENCH_STORAGE_AUTOVACUUM === 'off') await autovacuumOff(schema);
    const d = gw.deps;
    await addUser(d, ADMIN, { email: 'owner@example.com', role: 'reviewer' });
    const reviewer = await addUser(d, ADMIN, { email: 'oncall@example.com', role: 'reviewer', groups: ['ops'] });
    const agent = await addAgent(d, ADMIN, { name: 'support-agent', owner: 'owner@example.com' });
    const keys = { agent: agent.apiKey, reviewer: reviewer.apiKey };
    await lifecycle(gw, keys, 0);
    await gw.close();
    const before = schema ? await pgSizes(schema) : sqliteSizes(file).sizes;
    const liveBefore = schema ? await pgLiveBytes(schema) : null;
    const fileBefore = schema ? 0 : sqliteSizes(file).fileBytes;
    gw = await start();
    const t = performance.now();
    for (let i = 1; i <= N; i++) {
      await lifecycle(gw, keys, i);
      if (i % 1000 === 0) log(`${dialect}: ${i}/${N} actions (${((performance.now() - t) / 1000).toFixed(0)} s, ${loadLine()})`);
    }
    const db = gw.deps.db.read;
    const sum = async (table: 'audit_log' | 'events') => {
      const rows = await db.selectFrom(table).select('data').execute();
      return rows.reduce((n, r) => n + Buffer.byteLength(r.data), 0) / N;
    };
    const payload = { audit: await sum('audit_log'), events: await sum('events') };
    await gw.close();
    const after = schema ? await pgSizes(schema) : sqliteSizes(file);
    const live = new Map<string, number>();
    if (schema && liveBefore) for (const [t, n] of await pgLiveBytes(schema)) live.set(t, (n - (liveBefore.get(t) ?? 0)) / N);
    const afterSizes = 'sizes' in after ? after.sizes : after;
    const perAction = growth(before, afterSizes);
    let total = 0;
    for (const s of perAction.values()) total += s.data + s.index;
    const fileGrowthPer10k = 'fileBytes' in after ? ((after.fileBytes - fileBefore) * 10_000) / N : null;
    return { dialect, perAction, total, fileGrowthPer10k, payload, live };
  } finally {
    if (process.env.BENCH_KEEP) log(`kept ${schema ?? file}`);
    else await bench.drop();
  }
}

const results: Result[] = [];
for (const dialect of DIALECTS) results.push(await run(dialect));

const rows = [...TABLES, 'other'];
const pad = (s: string, n: number) => s.padEnd(n);
const num = (n: number) => Math.round(n).toLocaleString('en').padStart(8);
console.log(`\nbytes per action (${N.toLocaleString('en')} actions; ${loadLine()}): data + indexes`);
console.log(`${pad('table', 14)}${results.map((r) => `${r.dialect.padStart(10)} data  index`).join('   ')}`);
for (const t of rows) {
  const cells = results.map((r) => {
    const s = r.perAction.get(t) ?? { data: 0, index: 0 };
    return `${num(s.data)} ${num(s.index)}`;
  });
  console.log(`${pad(t, 14)}${cells.join('   ')}`);
}
console.log(`${pad('total', 14)}${results.map((r) => `${num(r.total).padStart(17)}`).join('   ')}`);
for (const r of results) {
  console.log(
    `${r.dialect}: stored JSON per action: audit data ${Math.round(r.payload.audit)} B, events data ${Math.round(r.payload.events)} B` +
      (r.fileGrowthPer10k === null ? '' : `; SQLite file growth per 10k actions: ${(r.fileGrowthPer10k / 1e6).toFixed(2)} MB`),
  );
  if (r.live.size > 0) {
    const parts = [...r.live].map(([t, n]) => `${t} ${Math.round(n)} B`);
    console.log(`${r.dialect}: live row bytes per action (pg_column_size, no free space): ${parts.join(', ')}`);
    // The heaps' free space moves with autovacuum's timing (hundreds of bytes per action under load); live rows
    // and indexes do not, so this is the figure to compare between runs on a busy machine.
    let indexes = 0;
    for (const s of r.perAction.values()) indexes += s.index;
    const live = [...r.live.values()].reduce((a, b) => a + b, 0);
    console.log(`${r.dialect}: live rows of those tables + all indexes per action (no free space): ${Math.round(live + indexes)} B`);
  }
}
