/**
 * The reviewer console's read paths over a long history: seeds 1,000,000 historical actions and 10,000
 * pending ones straight into the tables (bench/seed-actions.ts), on SQLite and on PostgreSQL, then measures
 * the server time (Fastify inject: routing, auth, validation, the queries, JSON; no network) of the
 * dashboard (GET /v1/stats), the inbox (GET /v1/inbox), the action page (GET /v1/inbox/:id) and the history
 * (GET /v1/actions with filters). Prints p50/p99; asserts nothing. See bench/README.md.
 *
 *   node --import tsx bench/oversight.ts
 *   BENCH_OVERSIGHT_N=200000 BENCH_OVERSIGHT_DIALECTS=sqlite node --import tsx bench/oversight.ts
 *   BENCH_OVERSIGHT_KEEP=/tmp/cs-oversight node --import tsx bench/oversight.ts   # seed once, re-measure later
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import pino from 'pino';
import { loadConfig } from '../packages/countersign/src/config/load.js';
import { addAgent } from '../packages/countersign/src/domain/identities/add-agent.js';
import { addUser } from '../packages/countersign/src/domain/identities/add-user.js';
import { type Gateway, startGateway } from '../packages/countersign/src/gateway.js';
import { referenceStats } from '../packages/countersign/test/stats-reference.js';
import { type BenchDatabase, benchDatabase, PG_URL } from './bench-database.js';
import { seedActions } from './seed-actions.js';

const N = Number(process.env.BENCH_OVERSIGHT_N ?? 1_000_000);
const PENDING = Number(process.env.BENCH_OVERSIGHT_PENDING ?? 10_000);
const RUNS = Number(process.env.BENCH_OVERSIGHT_RUNS ?? 30);
/** Timed runs of the direct queries the rollup replaced (0: skip them; at 1M on SQLite each takes seconds). */
const REFERENCE_RUNS = Number(process.env.BENCH_OVERSIGHT_REFERENCE_RUNS ?? 3);
const DIALECTS = (process.env.BENCH_OVERSIGHT_DIALECTS ?? 'sqlite,postgres').split(',');
/** Only the requests whose name contains one of these (comma-separated), e.g. `inbox`; all when unset. */
const ONLY = process.env.BENCH_OVERSIGHT_ONLY?.split(',').filter((s) => s !== '');
/**
 * A directory where each dialect's seeded database is kept (not dropped) with what the timed requests need;
 * a later run with the same directory, N and PENDING measures that database again without seeding (the
 * gateway still applies any newer migration to it on start, as an upgrade would). Remove it by hand.
 */
const KEEP = process.env.BENCH_OVERSIGHT_KEEP;
const ADMIN = { type: 'admin' as const, id: 'bench' };
const DAY = 86_400_000;
const DAYS = 90;

const log = (s: string) => process.stderr.write(`${s}\n`);

async function call(gw: Gateway, url: string, key: string): Promise<{ status: number; body: string }> {
  const r = await gw.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } });
  return { status: r.statusCode, body: r.body };
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
}

async function measure(gw: Gateway, key: string, url: string): Promise<{ p50: number; p99: number; bytes: number }> {
  const first = await call(gw, url, key);
  if (first.status !== 200) throw new Error(`${url}: ${first.status} ${first.body.slice(0, 300)}`);
  for (let i = 0; i < 3; i++) await call(gw, url, key);
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await call(gw, url, key);
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  return { p50: pct(samples, 0.5), p99: pct(samples, 0.99), bytes: first.body.length };
}

/** What a later run needs to measure a kept database again (BENCH_OVERSIGHT_KEEP). */
interface Seeded {
  dataDir: string;
  schema: string | undefined;
  n: number;
  pending: number;
  /** The seeding's clock: the time ranges of the requests are relative to it. */
  now: number;
  /** The API key of the reviewer the requests are made as, and an action for the action page. */
  key: string;
  pendingId: string;
}

/** The kept database of this dialect, or a new one (kept when BENCH_OVERSIGHT_KEEP is set). */
function database(dialect: string): { bench: BenchDatabase; seeded: Seeded | undefined; keep: string | undefined } {
  const keep = KEEP === undefined ? undefined : join(KEEP, `${dialect}.json`);
  if (keep !== undefined && existsSync(keep)) {
    const seeded = JSON.parse(readFileSync(keep, 'utf8')) as Seeded;
    if (seeded.n !== N || seeded.pending !== PENDING)
      throw new Error(`${keep} holds ${seeded.n} + ${seeded.pending} actions; set N and PENDING to match`);
    const config = loadConfig({
      env: {},
      overrides: { dataDir: seeded.dataDir, port: 0, ...(seeded.schema ? { databaseUrl: PG_URL } : {}) },
    });
    return { bench: { config, schema: seeded.schema, drop: async () => {} }, seeded, keep };
  }
  return { bench: benchDatabase(dialect, 'oversight'), seeded: undefined, keep };
}

async function run(dialect: string): Promise<void> {
  const { bench, seeded, keep } = database(dialect);
  const schema = bench.schema;
  const base = bench.config;
  // Pending actions wait 30 days; the periodic chain verification stays out of the measurement.
  const config = { ...base, review: { defaultExpiryMs: 30 * DAY }, audit: { ...base.audit, verifyIntervalMs: 0 } };
  const t0 = performance.now();
  const gw = await startGateway(config, { listen: false, logger: pino({ level: 'silent' }), ...(schema ? { schema } : {}) });
  if (seeded) {
    log(
      `${dialect}: reusing ${schema ?? base.dataDir} (${N} + ${PENDING} actions); started (migrations included) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    // As autovacuum would after a migration's back-fill: statistics and the visibility map up to date.
    await analyze(gw, schema);
  }
  try {
    const s = seeded ?? (await seed(dialect, gw, schema));
    if (keep !== undefined && !seeded) {
      mkdirSync(join(keep, '..'), { recursive: true });
      writeFileSync(keep, JSON.stringify({ ...s, dataDir: base.dataDir, schema }));
      log(`${dialect}: kept in ${schema ?? base.dataDir} (${keep})`);
    }
    await measureAll(dialect, gw, s);
  } finally {
    await gw.close();
    if (keep === undefined) await bench.drop();
  }
}

/** `ANALYZE` (SQLite) or `VACUUM ANALYZE` of the actions and reviews (PostgreSQL: the visibility map too, for index-only scans). */
async function analyze(gw: Gateway, schema: string | undefined): Promise<void> {
  if (schema) {
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`vacuum analyze ${schema}.actions`);
    await c.query(`vacuum analyze ${schema}.reviews`);
    await c.end();
  } else {
    await gw.deps.db.write.executeQuery({ sql: 'analyze', parameters: [], query: { kind: 'RawNode' } as never });
  }
}

/** Seeds the actions, then has the database's statistics (and PostgreSQL's visibility map) brought up to date. */
async function seed(dialect: string, gw: Gateway, schema: string | undefined): Promise<Omit<Seeded, 'dataDir' | 'schema'>> {
  const d = gw.deps;
  const reviewers = [];
  for (let i = 0; i < 20; i++) reviewers.push(await addUser(d, ADMIN, { email: `reviewer${i}@example.com`, role: 'reviewer' }));
  const agents = [];
  for (let i = 0; i < 50; i++) agents.push(await addAgent(d, ADMIN, { name: `agent-${i}`, owner: `reviewer${i % 20}@example.com` }));
  const r0 = reviewers[0] as (typeof reviewers)[number];
  const a0 = agents[0] as (typeof agents)[number];
  // Templates: real rows the gateway wrote (a pending action under the default workflow, one a person approved).
  const propose = async (n: number) => {
    const r = await gw.app.inject({
      method: 'POST',
      url: '/v1/actions',
      headers: { authorization: `Bearer ${a0.apiKey}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ tool: 'deploy', arguments: { n } }),
    });
    return JSON.parse(r.body).id as string;
  };
  const pendingId = await propose(1);
  const decidedId = await propose(2);
  const review = await gw.app.inject({
    method: 'POST',
    url: `/v1/actions/${decidedId}/reviews`,
    headers: { authorization: `Bearer ${(reviewers[1] as (typeof reviewers)[number]).apiKey}`, 'content-type': 'application/json' },
    payload: JSON.stringify({ decision: 'approve' }),
  });
  if (review.statusCode !== 200) throw new Error(`template review: ${review.body}`);
  const db = d.db.write;
  const pending = await db.selectFrom('actions').selectAll().where('id', '=', pendingId).executeTakeFirstOrThrow();
  const decided = await db.selectFrom('actions').selectAll().where('id', '=', decidedId).executeTakeFirstOrThrow();
  const reviewRow = await db.selectFrom('reviews').selectAll().where('action_id', '=', decidedId).executeTakeFirstOrThrow();
  const ids = new Map((await db.selectFrom('agents').select(['id', 'name', 'owner_id']).execute()).map((a) => [a.name, a]));
  // The digests of the frozen texts (migration 028) read back as hex; inserted again, they must be the bytes.
  const stored = <R extends { policy_digest: string; workflow_digest: string | null }>(r: R): R => ({
    ...r,
    policy_digest: d.db.caps.storedHash(r.policy_digest) as string,
    workflow_digest: r.workflow_digest === null ? null : (d.db.caps.storedHash(r.workflow_digest) as string),
  });
  const now = d.clock.now();
  const t0 = performance.now();
  await seedActions(
    db,
    {
      pending: { ...stored(pending), created_at: Number(pending.created_at) },
      decided: stored(decided),
      review: reviewRow,
      reviewers: reviewers.map((r, i) => ({ id: r.id, email: `reviewer${i}@example.com` })),
      agents: agents.map((_, i) => {
        const a = ids.get(`agent-${i}`) as { id: string; name: string; owner_id: string };
        return { id: a.id, name: a.name, owner: a.owner_id };
      }),
    },
    { now, historical: N, pending: PENDING, days: DAYS, log },
  );
  const seedS = (performance.now() - t0) / 1000;
  log(`${dialect}: seeded ${N} + ${PENDING} actions in ${seedS.toFixed(1)} s`);
  await analyze(gw, schema);
  return { n: N, pending: PENDING, now, key: r0.apiKey, pendingId };
}

async function measureAll(dialect: string, gw: Gateway, s: Omit<Seeded, 'dataDir' | 'schema'>): Promise<void> {
  const d = gw.deps;
  const { now, key, pendingId } = s;
  const iso = (ms: number) => new Date(ms).toISOString();
  const someone = `reviewer3@example.com`;
  const cases: [string, string][] = [
    ['GET /v1/stats (7 days, by day: the dashboard default)', '/v1/stats'],
    ['GET /v1/stats (24 hours, by hour)', `/v1/stats?from=${iso(now - DAY)}&to=${iso(now)}&bucket=hour`],
    ['GET /v1/stats (30 days, by day)', `/v1/stats?from=${iso(now - 30 * DAY)}&to=${iso(now)}&bucket=day`],
    [`GET /v1/stats (all ${DAYS} days, ${N} actions)`, `/v1/stats?from=${iso(now - DAYS * DAY)}&to=${iso(now)}&bucket=day`],
    ['GET /v1/inbox (10k pending)', '/v1/inbox'],
    ['GET /metrics (pending by age, oldest pending, consumer backlogs: read at scrape)', '/metrics'],
    ['GET /v1/inbox?limit=1 (the live count in the header)', '/v1/inbox?limit=1'],
    ['GET /v1/inbox/:id (the action page)', `/v1/inbox/${pendingId}`],
    ['GET /v1/actions (history, no filter)', '/v1/actions'],
    ['GET /v1/actions?status=denied&tool=deploy', '/v1/actions?status=denied&tool=deploy'],
    ['GET /v1/actions?decided_by=<person>', `/v1/actions?decided_by=${encodeURIComponent(someone)}`],
    ['GET /v1/actions?q=rollback', '/v1/actions?q=rollback'],
    ['GET /v1/actions?q=<no match>', '/v1/actions?q=no-such-purpose'],
    ['GET /v1/actions?from&to (one day, 60 days ago)', `/v1/actions?from=${iso(now - 60 * DAY)}&to=${iso(now - 59 * DAY)}`],
  ];
  const rows: string[] = [];
  for (const [name, url] of cases) {
    if (ONLY && !ONLY.some((o) => name.includes(o))) continue;
    const m = await measure(gw, key, url);
    rows.push(`| ${dialect} | ${name} | ${m.p50.toFixed(1)} | ${m.p99.toFixed(1)} | ${m.bytes} |`);
    log(`${rows[rows.length - 1]} load ${loadavg()[0]?.toFixed(1)}`);
  }
  // Before/after on the same data and the same load: the dashboard's figures by the direct GROUP BY queries
  // over the tables (what GET /v1/stats ran before migration 022; test/stats-reference.ts), domain time
  // only (no HTTP), and whether the rollup gave the same answers.
  for (const [name, url] of REFERENCE_RUNS > 0 ? cases.filter(([, u]) => u.startsWith('/v1/stats')) : []) {
    const q = Object.fromEntries(new URL(url, 'http://x').searchParams) as Parameters<typeof referenceStats>[1];
    const want = await referenceStats(d, q);
    const got = JSON.parse((await call(gw, url, key)).body);
    const same = ['totals', 'outcomes', 'decision_times', 'top_tools', 'top_agents', 'reviewers'].every(
      (k) => JSON.stringify(got[k]) === JSON.stringify(want[k as keyof typeof want]),
    );
    const samples: number[] = [];
    for (let i = 0; i < REFERENCE_RUNS; i++) {
      const t = performance.now();
      await referenceStats(d, q);
      samples.push(performance.now() - t);
    }
    samples.sort((a, b) => a - b);
    rows.push(
      `| ${dialect} | direct queries (before the rollup): ${name.replace('GET /v1/stats ', '')}, same answers: ${same ? 'yes' : 'NO'} | ${pct(samples, 0.5).toFixed(1)} | ${(samples[samples.length - 1] as number).toFixed(1)} (max of ${REFERENCE_RUNS}) | |`,
    );
    log(`${rows[rows.length - 1]} load ${loadavg()[0]?.toFixed(1)}`);
  }
  process.stdout.write(`\n| db | request | p50 ms | p99 ms | body bytes |\n|---|---|---|---|---|\n${rows.join('\n')}\n`);
}

for (const dialect of DIALECTS) await run(dialect);
