/**
 * Countersign core benchmark. One run prints:
 *
 *  (a) throughput of auto-approved submissions (POST /v1/actions, readOnlyHint)
 *      on SQLite and PostgreSQL, against a bare Fastify 5 JSON echo baseline;
 *  (b) decision latency (review sent → waiting agent has the decision) over
 *      long-poll and SSE, on SQLite and PostgreSQL.
 *
 * The server under test always runs in a child process (bench/server.ts); load
 * generation (autocannon) and the latency clients run here. See bench/README.md.
 *
 *   node --import tsx bench/core.ts          (npm run bench)
 *   BENCH_CPU_PROF=1 npm run bench           also profile each server child
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { GATEWAY_NODE_FLAGS, killAll, type ServerHandle, type StartOptions, startServer } from './child.js';
import { type Channel, type LatencyResult, measureDecisionLatency, measureEchoRoundTrip, percentile } from './latency.js';
import { formatProfileSummary, summarizeProfile } from './profile-summary.js';
import type { ServerMode } from './protocol.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const PG_URL = process.env.COUNTERSIGN_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

function envNum(name: string, dflt: number, min: number, max: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`${name} must be a number in [${min}, ${max}]`);
  return n;
}

const CONNECTIONS = envNum('BENCH_CONNECTIONS', 50, 1, 1000);
const PIPELINING = envNum('BENCH_PIPELINING', 1, 1, 100);
const DURATION_S = envNum('BENCH_DURATION', 10, 1, 120);
const WARMUP_S = envNum('BENCH_WARMUP', 3, 0, 60);
const LAT_N = envNum('BENCH_LATENCY_N', 300, 10, 10_000);
const LAT_WARMUP = envNum('BENCH_LATENCY_WARMUP', 30, 0, 1000);
const PROFILE = process.env.BENCH_CPU_PROF === '1';
/** Optional subset of steps, e.g. BENCH_ONLY=tput-echo,tput-sqlite (all by default). */
const STEPS = ['tput-echo', 'tput-echo-sign', 'tput-sqlite', 'tput-postgres', 'lat-sqlite', 'lat-postgres'] as const;
const ONLY = new Set((process.env.BENCH_ONLY ?? STEPS.join(',')).split(',').map((x) => x.trim()));
for (const step of ONLY)
  if (!(STEPS as readonly string[]).includes(step)) throw new Error(`BENCH_ONLY: unknown step ${step} (use ${STEPS.join(', ')})`);
const PROF_DIR = join(HERE, 'results', 'prof');
/** Compiled copy of the gateway used when profiling (real line numbers); never written inside packages/. */
const BUILD_DIR = join(HERE, 'results', 'build');
/** Whole run is aborted past this. */
const RUN_LIMIT_MS = (PROFILE ? 16 : 6) * 60_000; // profiling first compiles the gateway (up to 10 min, below)

/**
 * Issue 19: a policy-allowed submission may cost at most 2x the ceiling's server CPU per request on SQLite
 * (ceiling CPU/req / gateway CPU/req >= 0.5) and about 3x on PostgreSQL (>= 0.35).
 */
const TARGET_CPU_RATIO: Record<'sqlite' | 'postgres', number> = { sqlite: 0.5, postgres: 0.35 };
const TARGET_P99_MS = 10;

/** An auto-approved proposal: the built-in policy allows readOnlyHint at once from an agent in trust_annotations. */
const PROPOSAL = JSON.stringify({
  tool: 'read_file',
  arguments: { path: '/srv/app/README.md', encoding: 'utf8' },
  purpose: 'throughput benchmark',
  annotations: { readOnlyHint: true },
});

const LABEL: Record<ServerMode, string> = { echo: 'Fastify echo', 'echo-sign': 'echo + receipt', sqlite: 'SQLite', postgres: 'PostgreSQL' };

// ---------------------------------------------------------------- helpers

const failures: string[] = [];

function fail(msg: string): void {
  failures.push(msg);
  console.error(`\n!!! FAILURE: ${msg}\n`);
}

function log(msg: string): void {
  process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(1).padStart(5)}s] ${msg}\n`);
}

function table(head: string[], rows: string[][], rightAlign: boolean[] = []): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => (rightAlign[i] ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [fmt(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n');
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '-');

async function pgAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** CPU seconds used so far by all processes named "postgres" (Linux /proc; undefined elsewhere). */
function postgresCpuMs(): number | undefined {
  try {
    let ticks = 0;
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      } catch {
        continue; // exited meanwhile
      }
      const close = stat.lastIndexOf(')');
      if (stat.slice(stat.indexOf('(') + 1, close) !== 'postgres') continue;
      const f = stat.slice(close + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15)
    }
    return ticks * 10; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

/** Busy CPU time of the whole machine so far, ms (Linux /proc/stat; undefined elsewhere). */
function machineBusyMs(): number | undefined {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
    // user nice system idle iowait irq softirq steal ...; guest time is already inside user/nice.
    const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
    return busy * 10;
  } catch {
    return undefined;
  }
}

/** Cores used by everything on the machine over `ms` of quiet waiting: background noise before we start. */
async function backgroundCores(ms: number): Promise<number | undefined> {
  const a = machineBusyMs();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const b = machineBusyMs();
  return a === undefined || b === undefined ? undefined : (b - a) / (performance.now() - t0);
}

const schemas = new Set<string>();

async function dropSchema(schema: string): Promise<void> {
  if (!/^cs_bench_[0-9a-f]+$/.test(schema)) throw new Error(`refusing to drop ${schema}`);
  await pgAdmin((c) => c.query(`drop schema if exists ${schema} cascade`));
  schemas.delete(schema);
}

/** Starts a fresh server (new temp SQLite dir, or new PostgreSQL schema), runs fn, always tears it down. */
async function withServer<T>(mode: ServerMode, phase: string, fn: (s: ServerHandle) => Promise<T>): Promise<T> {
  const opts: StartOptions = {};
  if (mode === 'postgres') {
    opts.schema = `cs_bench_${randomBytes(5).toString('hex')}`;
    schemas.add(opts.schema);
  }
  if (PROFILE) {
    opts.cpuProfDir = join(PROF_DIR, `${mode}-${phase}`);
    opts.packageDir = BUILD_DIR;
  }
  const server = await startServer(mode, opts);
  try {
    return await fn(server);
  } finally {
    try {
      await server.stop();
    } finally {
      if (opts.schema) await dropSchema(opts.schema);
    }
  }
  // (profile file, if any, is complete once stop() resolved: the child writes it on exit)
}

// ---------------------------------------------------------------- (a) throughput

interface ThroughputRow {
  mode: ServerMode;
  reqPerSec: number;
  total2xx: number;
  p50: number;
  p99: number;
  avg: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  rows?: { actions: number; audit: number; events: number };
  /** Mean operations per group-commit transaction, and share of the measured time the writer spent in transactions. */
  commit?: { avgBatch: number; busy: number };
  /** Cores used during the measured window: server process, load generator (this process), PostgreSQL. */
  cpu: { server: number; client: number; postgres: number | undefined; other: number | undefined; serverUsPerReq: number };
}

function cannon(url: string, key: string, seconds: number): Promise<autocannon.Result> {
  return autocannon({
    url: `${url}/v1/actions`,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key || 'none'}` },
    body: PROPOSAL,
    connections: CONNECTIONS,
    pipelining: PIPELINING,
    duration: seconds,
    timeout: 10,
  });
}

async function throughput(mode: ServerMode): Promise<ThroughputRow> {
  return withServer(mode, 'throughput', async (s) => {
    const base = await s.stats(); // the setup's own rows (users, agent, keys)
    const sample = await fetch(`${s.url}/v1/actions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${s.keys.agent || 'none'}` },
      body: PROPOSAL,
    });
    const sampleBody = (await sample.json()) as { status?: string; error?: unknown };
    const gateway = mode === 'sqlite' || mode === 'postgres';
    if (gateway && (sample.status !== 201 || sampleBody.status !== 'approved')) {
      throw new Error(`${mode}: a read-only proposal should be approved at once, got HTTP ${sample.status} ${JSON.stringify(sampleBody)}`);
    }
    if (WARMUP_S > 0) {
      log(`${LABEL[mode]}: warm-up ${WARMUP_S}s`);
      const w = await cannon(s.url, s.keys.agent, WARMUP_S);
      if (w.non2xx > 0 || w.errors > 0) fail(`${LABEL[mode]} warm-up: ${w.non2xx} non-2xx, ${w.errors} errors`);
    }
    s.resetStats();
    const clientCpu0 = process.cpuUsage();
    const pgCpu0 = postgresCpuMs();
    const busy0 = machineBusyMs();
    const t0 = performance.now();
    log(`${LABEL[mode]}: measuring ${DURATION_S}s, ${CONNECTIONS} connections, pipelining ${PIPELINING}`);
    const r = await cannon(s.url, s.keys.agent, DURATION_S);
    const wallMs = performance.now() - t0;
    const clientCpu = process.cpuUsage(clientCpu0);
    const pgCpu1 = postgresCpuMs();
    const busy1 = machineBusyMs();
    const st = await s.stats();
    const row: ThroughputRow = {
      mode,
      reqPerSec: r.requests.average,
      total2xx: r['2xx'],
      p50: r.latency.p50,
      p99: r.latency.p99,
      avg: r.latency.average,
      non2xx: r.non2xx,
      errors: r.errors,
      timeouts: r.timeouts,
      cpu: {
        server: st.cpuMs / wallMs,
        client: (clientCpu.user + clientCpu.system) / 1000 / wallMs,
        postgres: pgCpu0 === undefined || pgCpu1 === undefined ? undefined : (pgCpu1 - pgCpu0) / wallMs,
        other: undefined,
        serverUsPerReq: (st.cpuMs * 1000) / Math.max(1, r.requests.total),
      },
    };
    if (busy0 !== undefined && busy1 !== undefined) {
      const c = row.cpu;
      c.other = Math.max(0, (busy1 - busy0) / wallMs - c.server - c.client - (c.postgres ?? 0));
    }
    if (r.non2xx > 0 || r.errors > 0 || r.timeouts > 0) {
      fail(
        `${LABEL[mode]} throughput: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts; status codes ${JSON.stringify(r.statusCodeStats)}`,
      );
    }
    if (gateway) {
      // autocannon stops at the deadline with requests still in flight; let them land before counting rows.
      await new Promise((res) => setTimeout(res, 500));
      const rows = await s.stats();
      row.rows = { actions: rows.actions, audit: rows.audit, events: rows.events };
      row.commit = { avgBatch: st.batches > 0 ? st.ops / st.batches : 0, busy: st.txMs / wallMs };
      // Each auto-approved proposal is one actions row (with its signed receipt), three audit entries
      // (created, approved, receipt issued) and two events.
      const actions = rows.actions - base.actions;
      if (actions < r['2xx'] || rows.events - base.events !== 2 * actions || rows.audit - base.audit !== 3 * actions) {
        fail(`${LABEL[mode]}: stored rows do not match the answered requests: ${JSON.stringify(rows)} for ${r['2xx']} measured 2xx`);
      }
    }
    if (mode === 'echo') {
      log(`${LABEL[mode]}: sequential round trips (floor for the latency figures)`);
      echoFloor = await measureEchoRoundTrip(s.url, LAT_N, LAT_WARMUP);
    }
    return row;
  });
}

let echoFloor: number[] = [];

// ---------------------------------------------------------------- (b) decision latency

interface LatencyRow {
  mode: ServerMode;
  result: LatencyResult;
  /** Cores used by processes other than the server, this process and PostgreSQL while measuring. */
  otherCores: number | undefined;
}

async function latency(mode: 'sqlite' | 'postgres'): Promise<LatencyRow[]> {
  return withServer(mode, 'latency', async (s) => {
    const rows: LatencyRow[] = [];
    for (const channel of ['long-poll', 'sse'] as Channel[]) {
      log(`${LABEL[mode]}: decision latency over ${channel}, ${LAT_WARMUP} warm-up + ${LAT_N} actions`);
      s.resetStats();
      const client0 = process.cpuUsage();
      const pg0 = postgresCpuMs();
      const busy0 = machineBusyMs();
      const t0 = performance.now();
      const result = await measureDecisionLatency(channel, {
        url: s.url,
        agentKey: s.keys.agent,
        reviewerKey: s.keys.reviewer,
        iterations: LAT_N,
        warmup: LAT_WARMUP,
        timeLimitMs: 60_000,
      });
      const wall = performance.now() - t0;
      const client = process.cpuUsage(client0);
      const pg1 = postgresCpuMs();
      const busy1 = machineBusyMs();
      const st = await s.stats();
      const otherCores =
        busy0 === undefined || busy1 === undefined
          ? undefined
          : Math.max(0, (busy1 - busy0 - st.cpuMs - (client.user + client.system) / 1000 - ((pg1 ?? 0) - (pg0 ?? 0))) / wall);
      rows.push({ mode, result, otherCores });
    }
    return rows;
  });
}

// ---------------------------------------------------------------- main

const started = performance.now();

async function environment(): Promise<string> {
  const cpu = cpus();
  let pgVersion = 'unreachable';
  let pgSettings = '';
  try {
    pgVersion = await pgAdmin(
      async (c) => (await c.query<{ v: string }>(`select current_setting('server_version') as v`)).rows[0]?.v ?? '?',
    );
    pgSettings = await pgAdmin(async (c) => {
      const q = async (n: string) => (await c.query<Record<string, string>>(`show ${n}`)).rows[0]?.[n] ?? '?';
      return `fsync=${await q('fsync')}, synchronous_commit=${await q('synchronous_commit')}`;
    });
  } catch (e) {
    fail(`PostgreSQL at ${PG_URL.replace(/\/\/[^@]*@/, '//…@')} is unreachable: ${(e as Error).message}`);
  }
  let fsType = '';
  try {
    const mounts = readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .map((l) => l.split(' '));
    const dir = tmpdir();
    const m = mounts.filter((p) => p[1] && (dir === p[1] || dir.startsWith(p[1].endsWith('/') ? p[1] : `${p[1]}/`)));
    m.sort((a, b) => (b[1]?.length ?? 0) - (a[1]?.length ?? 0));
    fsType = m[0]?.[2] ?? '';
  } catch {
    // not Linux
  }
  return [
    `node ${process.version}, ${cpu.length} CPU(s) (${cpu[0]?.model.trim() ?? '?'}), PostgreSQL ${pgVersion} (${pgSettings}) on the same machine`,
    `SQLite in ${tmpdir()}${fsType ? ` (${fsType})` : ''}, WAL, synchronous=FULL; server in a separate process (gateway node flags: ${GATEWAY_NODE_FLAGS || 'none'}, as the product runs it), clients in this one; loopback only`,
    `autocannon: ${CONNECTIONS} connections, pipelining ${PIPELINING}, ${WARMUP_S} s warm-up + ${DURATION_S} s measured per target`,
  ].join('\n');
}

async function main(): Promise<void> {
  const bg = await backgroundCores(1000);
  if (bg !== undefined && bg > 0.25) {
    console.error(`WARNING: the machine was already using ${bg.toFixed(2)} cores before the bench started; figures will be noisy.`);
  }
  if (PROFILE) {
    rmSync(PROF_DIR, { recursive: true, force: true });
    mkdirSync(PROF_DIR, { recursive: true });
    rmSync(BUILD_DIR, { recursive: true, force: true });
    log(`profiling: compiling packages/countersign/src into ${BUILD_DIR}`);
    const tsc = spawnSync(
      process.execPath,
      [
        join(HERE, '..', 'node_modules', 'typescript', 'bin', 'tsc'),
        '-p',
        join(HERE, '..', 'packages', 'countersign', 'tsconfig.build.json'),
        '--outDir',
        BUILD_DIR,
        '--declaration',
        'false',
        '--sourceMap',
        'false',
      ],
      // Generous: on a busy shared machine tsc alone has taken over two minutes.
      { stdio: 'inherit', timeout: 600_000 },
    );
    if (tsc.status !== 0) throw new Error('tsc failed; cannot profile');
  }
  const header = `${await environment()}\nbackground load before start: ${bg === undefined ? 'unknown' : `${bg.toFixed(2)} cores busy`}`;

  const tput: ThroughputRow[] = [];
  for (const mode of ['echo', 'echo-sign', 'sqlite', 'postgres'] as ServerMode[]) {
    if (!ONLY.has(`tput-${mode}`)) continue;
    try {
      tput.push(await throughput(mode));
    } catch (e) {
      fail(`${LABEL[mode]} throughput run failed: ${(e as Error).stack ?? e}`);
    }
  }
  const lat: LatencyRow[] = [];
  for (const mode of ['sqlite', 'postgres'] as const) {
    if (!ONLY.has(`lat-${mode}`)) continue;
    try {
      lat.push(...(await latency(mode)));
    } catch (e) {
      fail(`${LABEL[mode]} latency run failed: ${(e as Error).stack ?? e}`);
    }
  }

  // ------------------------------------------------------------ report
  const out: string[] = [];
  const verdicts: string[] = [];
  const pct = (x: number | undefined) => (x === undefined ? '-' : `${(100 * x).toFixed(0)}%`);
  out.push('', '=== Countersign core benchmark ===', header, '');
  out.push('(a) Throughput: POST /v1/actions, auto-approved (readOnlyHint) = auth + durable insert + audit entries + events');
  const echo = tput.find((r) => r.mode === 'echo');
  const ceiling = tput.find((r) => r.mode === 'echo-sign');
  const name = (m: ServerMode) =>
    m === 'echo' ? 'Fastify 5 JSON echo (baseline)' : m === 'echo-sign' ? 'echo + Ed25519 receipt (ceiling)' : `gateway / ${LABEL[m]}`;
  const ratio = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(2));
  out.push(
    table(
      [
        'server',
        'req/s',
        'vs echo',
        'rate vs ceiling',
        'CPU vs ceiling',
        'target',
        'result',
        'p50 ms',
        'p99 ms',
        'mean ms',
        'non-2xx',
        'errors',
      ],
      tput.map((r) => {
        const vsEcho = echo && r.mode !== 'echo' ? r.reqPerSec / echo.reqPerSec : Number.NaN;
        const gateway = r.mode === 'sqlite' || r.mode === 'postgres';
        // Issue 19: the ceiling's server CPU per request divided by this row's (>= 0.5 means at most twice the ceiling's).
        const cpuRatio = gateway && ceiling ? ceiling.cpu.serverUsPerReq / r.cpu.serverUsPerReq : undefined;
        const rateRatio = gateway && ceiling ? r.reqPerSec / ceiling.reqPerSec : undefined;
        const target = gateway ? TARGET_CPU_RATIO[r.mode as 'sqlite' | 'postgres'] : undefined;
        const ok = r.non2xx === 0 && r.errors === 0 && r.timeouts === 0;
        const verdict = !ok ? 'FAIL' : target === undefined ? '' : cpuRatio === undefined ? '?' : cpuRatio >= target ? 'PASS' : 'MISS';
        if (target !== undefined) verdicts.push(`throughput ${LABEL[r.mode]} ${verdict}`);
        return [
          name(r.mode),
          int(r.reqPerSec),
          r.mode === 'echo' ? '1.00' : ratio(vsEcho),
          ratio(rateRatio),
          ratio(cpuRatio),
          target === undefined ? '' : `CPU >= ${target.toFixed(2)}`,
          verdict,
          String(r.p50),
          String(r.p99),
          r.avg.toFixed(2),
          String(r.non2xx),
          String(r.errors + r.timeouts),
        ];
      }),
      [false, true, true, true, true, false, false, true, true, true, true, true],
    ),
  );
  if (!ceiling && tput.some((r) => r.mode === 'sqlite' || r.mode === 'postgres')) {
    out.push('    (no ceiling row measured, so nothing to judge against: add tput-echo-sign to BENCH_ONLY)');
  }
  out.push('    (autocannon records latencies in whole milliseconds)');
  out.push('', `    where the time went during the measured window (cores: 1.00 = one full core; the machine has ${cpus().length}):`);
  out.push(
    table(
      [
        'server',
        'server cores',
        'server CPU µs/req',
        'load-gen cores',
        'postgres cores',
        'other procs cores',
        'ops/commit',
        'in-transaction',
        'rows stored: actions / audit / events',
      ],
      tput.map((r) => [
        name(r.mode),
        r.cpu.server.toFixed(2),
        int(r.cpu.serverUsPerReq),
        r.cpu.client.toFixed(2),
        r.cpu.postgres === undefined ? '-' : r.cpu.postgres.toFixed(2),
        r.cpu.other === undefined ? '-' : r.cpu.other.toFixed(2),
        r.commit ? r.commit.avgBatch.toFixed(1) : '',
        r.commit ? pct(r.commit.busy) : '',
        r.rows ? `${int(r.rows.actions)} / ${int(r.rows.audit)} / ${int(r.rows.events)}` : '',
      ]),
      [false, true, true, true, true, true, true, true, false],
    ),
  );
  out.push(
    '',
    `(b) Decision latency: approve POST sent -> the already-waiting agent has the decision, ms (n=${LAT_N} each after ${LAT_WARMUP} warm-up)`,
  );
  const latRows: string[][] = [];
  if (echoFloor.length > 0) {
    latRows.push([
      'floor',
      'echo POST round trip, same client',
      ms(percentile(echoFloor, 50)),
      ms(percentile(echoFloor, 90)),
      ms(percentile(echoFloor, 99)),
      ms(Math.max(...echoFloor)),
      '',
      '',
      '',
      '',
      '',
    ]);
  }
  for (const { mode, result: r, otherCores } of lat) {
    const p99 = percentile(r.samples, 99);
    const verdict = r.samples.length < LAT_N ? 'FAIL' : p99 <= TARGET_P99_MS ? 'PASS' : 'MISS';
    verdicts.push(`latency ${LABEL[mode]} ${r.channel} ${verdict}`);
    latRows.push([
      LABEL[mode],
      r.channel === 'sse' ? 'SSE GET /v1/events?action=ID' : 'long-poll GET /v1/actions/ID?wait=30',
      ms(percentile(r.samples, 50)),
      ms(percentile(r.samples, 90)),
      ms(p99),
      ms(Math.max(...r.samples)),
      ms(percentile(r.reviewRtt, 50)),
      ms(percentile(r.reviewRtt, 99)),
      `<= ${TARGET_P99_MS}`,
      verdict,
      otherCores === undefined ? '-' : otherCores.toFixed(2),
    ]);
  }
  out.push(
    table(
      ['backend', 'channel', 'p50', 'p90', 'p99', 'max', 'review RTT p50', 'review RTT p99', 'target p99', 'result', 'other procs cores'],
      latRows,
      [false, false, true, true, true, true, true, true, false, false, true],
    ),
  );
  const wanted = STEPS.filter((x) => ONLY.has(x));
  const expected = wanted.filter((x) => x.startsWith('tput-')).length + 2 * wanted.filter((x) => x.startsWith('lat-')).length;
  if (tput.length + lat.length < expected) verdicts.push('some measurements did not complete: FAIL');
  out.push('', `Verdicts: ${verdicts.join(', ')}`);
  out.push(`Failures (non-2xx, errors, wrong answers): ${failures.length === 0 ? 'none' : failures.length}`);
  out.push(`Total bench time: ${((performance.now() - started) / 1000).toFixed(0)} s`);

  if (PROFILE) {
    out.push('', '=== CPU profiles of the server processes (self time) ===');
    // One file per thread; the tsx loader runs in its own worker thread. Thread 0 is the server's main thread.
    for (const d of readdirSync(PROF_DIR).sort()) {
      const main = readdirSync(join(PROF_DIR, d)).find((n) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(n));
      if (main) out.push('', formatProfileSummary(`${d} (${main})`, summarizeProfile(join(PROF_DIR, d, main), 25)));
    }
  }
  console.log(out.join('\n'));
  if (failures.length > 0) {
    console.error(`\n${failures.length} FAILURE(S):\n - ${failures.join('\n - ')}`);
    process.exitCode = 1;
  }
}

async function cleanupSchemas(): Promise<void> {
  for (const s of [...schemas]) await dropSchema(s).catch((e) => console.error(`could not drop schema ${s}: ${e.message}`));
}

const guard = setTimeout(() => {
  console.error(`bench exceeded ${RUN_LIMIT_MS / 1000} s; aborting`);
  killAll();
  void cleanupSchemas().finally(() => process.exit(2));
}, RUN_LIMIT_MS);
guard.unref();

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    console.error(`\n${sig}: stopping servers and dropping bench schemas`);
    killAll();
    void cleanupSchemas().finally(() => process.exit(130));
  });
}

try {
  await main();
} catch (e) {
  console.error(e);
  process.exitCode = 1;
} finally {
  killAll();
  await cleanupSchemas();
}
