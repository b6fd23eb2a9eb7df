/**
 * Many agents waiting at once on one gateway process (issue 18): N agents (default 10,000) each park on
 * their own pending action, by long-poll (`GET /v1/actions/ID?wait=…`) or SSE (`GET /v1/events?action=ID`).
 * It reports the gateway's RSS before parking and with all parked (bytes per waiter), confirms they are
 * parked from /metrics (`countersign_waiters`), then times single decisions to their waiter while the
 * others stay parked, next to the same measured with one waiter. Figures are printed, never asserted:
 * the run exits non-zero only when something fails (an HTTP error, a waiter that never parks or never
 * gets its decision).
 *
 *   npm run bench:waiters
 *   BENCH_WAITERS=10000 BENCH_WAITERS_CHANNEL=long-poll,sse BENCH_DIALECTS=sqlite,postgres npm run bench:waiters
 *   BENCH_WAITERS=2000 BENCH_WAITERS_HEAP_SNAPSHOTS=bench/results/heap npm run bench:waiters
 *
 * BENCH_WAITERS_HEAP_SNAPSHOTS=DIR writes V8 heap snapshots of the gateway into DIR, with the pending actions
 * but no waiters (`…-before`) and with all parked (`…-parked`); bench/heap-summary.ts prints what a waiter
 * holds by constructor from the two.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { GATEWAY_NODE_FLAGS, killAll, type ServerHandle, startServer } from './child.js';
import { onSseFrames, type Reply, request } from './http-request.js';
import { type Channel, measureDecisionLatency, percentile } from './latency.js';

const N = Number(process.env.BENCH_WAITERS ?? 10_000);
const DECISIONS = Number(process.env.BENCH_WAITERS_DECISIONS ?? 200);
const CHANNELS = (process.env.BENCH_WAITERS_CHANNEL ?? 'long-poll,sse').split(',') as Channel[];
const DIALECTS = (process.env.BENCH_DIALECTS ?? 'sqlite').split(',') as ('sqlite' | 'postgres')[];
const SNAPSHOT_DIR = process.env.BENCH_WAITERS_HEAP_SNAPSHOTS ? resolve(process.env.BENCH_WAITERS_HEAP_SNAPSHOTS) : undefined;
/** Long enough that no parked long-poll times out while the rest are still being parked and decided. */
const MAX_WAIT_SECONDS = 900;
/** Waiters opened at once while parking (BENCH_WAITERS_PARK_CHUNK): smaller on a loaded machine. */
const PARK_CHUNK = Number(process.env.BENCH_WAITERS_PARK_CHUNK ?? 100);
/**
 * Seconds to keep watching RSS with all parked (BENCH_WAITERS_SETTLE_S), printed every 5 s: V8 gives back a
 * young generation grown during a burst only at a later collection, so RSS 2 s after parking is not where it settles.
 */
const SETTLE_S = Number(process.env.BENCH_WAITERS_SETTLE_S ?? 0);
/**
 * Seconds with all parked and nothing asked of the gateway (BENCH_WAITERS_IDLE_S), over which its JS heap's
 * allocation rate is read (bench/alloc-probe.mjs): what 10,000 idle waiters cost it (keep-alives, timers).
 */
const IDLE_S = Number(process.env.BENCH_WAITERS_IDLE_S ?? 10);
/**
 * Which waiters are decided (BENCH_WAITERS_DECIDE): `first` parked (the default, as in every earlier run) or
 * `last` parked. Anything a waiter is in that is walked from the front (a linked list of listeners) is cheap
 * for the first and costs the whole list for the last.
 */
const DECIDE = process.env.BENCH_WAITERS_DECIDE ?? 'first';
if (DECIDE !== 'first' && DECIDE !== 'last') throw new Error(`BENCH_WAITERS_DECIDE is first or last, not ${DECIDE}`);
const PROBE = join(dirname(fileURLToPath(import.meta.url)), 'alloc-probe.mjs');
/** Connection-level retries while parking (the listen backlog overflowing under a burst of connects). */
let connectRetries = 0;
/** Set while tearing down, when destroying the client pool ends every parked request: those are not retried. */
let closing = false;
/** Waiters that could not park after their retries: the gauge would never reach N, so the wait for it stops. */
const parkErrors: string[] = [];

for (const c of CHANNELS) if (c !== 'long-poll' && c !== 'sse') throw new Error(`unknown channel ${c}`);
for (const d of DIALECTS) if (d !== 'sqlite' && d !== 'postgres') throw new Error(`unknown dialect ${d}`);

function expect(r: Reply, status: number, what: string): void {
  if (r.status !== status) throw new Error(`${what}: expected HTTP ${status}, got ${r.status}: ${r.body.slice(0, 300)}`);
}

/** The part of RSS that is mapped file pages (the binary, the SQLite reader's map): page cache, not the heap. */
function rssFileBytes(pid: number): number {
  const m = /^RssFile:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : Number.NaN;
}

/** Resident set of a process in bytes, from the kernel's own accounting. */
function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** Anonymous (heap, malloc arenas, stacks) and file-backed resident bytes, from /proc/PID/smaps_rollup. */
function rssSplit(pid: number): { anon: number; file: number } {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(text)?.[1] ?? Number.NaN) * 1024;
  return { anon: kb('Anonymous'), file: kb('Rss') - kb('Anonymous') };
}

/** The gateway's allocation probe (bench/alloc-probe.mjs): ms since its start and bytes allocated by then. */
function allocated(file: string): { ms: number; bytes: number } {
  const [ms, bytes] = readFileSync(file, 'utf8').trim().split(' ').map(Number);
  return { ms: ms ?? Number.NaN, bytes: bytes ?? Number.NaN };
}

/** V8's heap spaces as the gateway's /metrics reports them: committed (total) and used, by space. */
async function heapSpaces(agent: http.Agent, base: URL): Promise<Record<string, { total: number; used: number }>> {
  const m = await request(agent, base, 'GET', '/metrics');
  const out: Record<string, { total: number; used: number }> = {};
  for (const line of m.body.split('\n')) {
    const hit = /^countersign_nodejs_heap_space_size_(total|used)_bytes\{space="([a-z_]+)"\} (\d+)/.exec(line);
    if (!hit) continue;
    const name = hit[2] as string;
    const space = out[name] ?? { total: 0, used: 0 };
    space[hit[1] as 'total' | 'used'] = Number(hit[3]);
    out[name] = space;
  }
  return out;
}

/** Where the resident memory is: anonymous vs file pages, and V8's committed vs used per space, in MB. */
async function memoryLine(pid: number, agent: http.Agent, base: URL): Promise<string> {
  const { anon, file } = rssSplit(pid);
  const spaces = await heapSpaces(agent, base);
  const v8 = Object.entries(spaces)
    .filter(([, v]) => v.total >= 512 * 1024)
    .map(([k, v]) => `${k} ${mb(v.used)}/${mb(v.total)}`)
    .join(', ');
  const committed = Object.values(spaces).reduce((a, v) => a + v.total, 0);
  return `anon ${mb(anon)} file ${mb(file)}; V8 committed ${mb(committed)} (used/committed: ${v8})`;
}

async function waitersGauge(agent: http.Agent, base: URL, kind: 'long_poll' | 'sse'): Promise<number> {
  const m = await request(agent, base, 'GET', '/metrics');
  const line = m.body.split('\n').find((l) => l.startsWith(`countersign_waiters{kind="${kind}"} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

/** V8 heap in use as the gateway's /metrics reports it: RSS without the allocator's slack and unreturned pages. */
async function heapUsed(agent: http.Agent, base: URL): Promise<number> {
  const m = await request(agent, base, 'GET', '/metrics');
  const line = m.body.split('\n').find((l) => l.startsWith('countersign_nodejs_heap_size_used_bytes '));
  return line ? Number(line.split(' ')[1]) : Number.NaN;
}

/**
 * A V8 heap snapshot of the gateway (started with --heapsnapshot-signal), saved as DIR/NAME.heapsnapshot.
 * The snapshot is written on the gateway's main thread, so once it answers a request again the file is complete.
 */
async function heapSnapshot(pid: number, agent: http.Agent, base: URL, name: string): Promise<void> {
  if (!SNAPSHOT_DIR) return;
  const known = new Set(readdirSync(SNAPSHOT_DIR));
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 600; i++) {
    await sleep(500);
    const fresh = readdirSync(SNAPSHOT_DIR).find((f) => f.endsWith('.heapsnapshot') && !known.has(f));
    if (fresh === undefined) continue;
    await request(agent, base, 'GET', '/metrics');
    renameSync(join(SNAPSHOT_DIR, fresh), join(SNAPSHOT_DIR, `${name}.heapsnapshot`));
    console.error(`waiters: heap snapshot ${join(SNAPSHOT_DIR, `${name}.heapsnapshot`)}`);
    return;
  }
  throw new Error('the gateway wrote no heap snapshot');
}

async function untilGauge(
  agent: http.Agent,
  base: URL,
  kind: 'long_poll' | 'sse',
  n: number,
  ms: number,
  how: 'exactly' | 'at least' = 'exactly',
): Promise<number> {
  const t0 = performance.now();
  let seen = -1;
  while (performance.now() - t0 < ms) {
    seen = await waitersGauge(agent, base, kind);
    if (seen === n || (how === 'at least' && seen > n)) return performance.now() - t0;
    if (parkErrors.length > 0) throw new Error(`${parkErrors.length} waiters could not park, first: ${parkErrors[0]}`);
    await sleep(200);
  }
  throw new Error(`the gateway reported ${seen} ${kind} waiters, never ${n}, within ${ms} ms`);
}

/** Creates `n` pending actions through the batch endpoint (100 per call, 4 calls in flight). */
async function createPending(agent: http.Agent, base: URL, key: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const from = next;
      const count = Math.min(100, n - from);
      next += count;
      const actions = Array.from({ length: count }, (_, i) => ({
        tool: 'deploy',
        arguments: { build: from + i },
        purpose: 'waiters benchmark',
      }));
      const r = await request(agent, base, 'POST', '/v1/actions/batch', key, { actions });
      expect(r, 201, 'batch propose');
      for (const a of (JSON.parse(r.body) as { actions: { id: string; status: string }[] }).actions) {
        if (a.status !== 'pending') throw new Error(`expected a pending action, got ${a.status}`);
        ids.push(a.id);
      }
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return ids;
}

interface Parked {
  /** Resolves with the arrival time (performance.now()) of the decision, after checking it is an approval of this action. */
  decided: Promise<number>;
  close(): void;
}

/** One long-poll: parks and, should the wait end with the action still pending, parks again. */
function parkLongPoll(agent: http.Agent, base: URL, key: string, id: string): { opened: Promise<void>; parked: Parked } {
  const decided = (async () => {
    for (let attempt = 1; ; attempt++) {
      let r: Reply;
      try {
        r = await request(agent, base, 'GET', `/v1/actions/${id}?wait=${MAX_WAIT_SECONDS}`, key);
      } catch (e) {
        // A connection refused or reset while thousands connect at once: an agent's client retries, so does this.
        if (closing) throw e;
        if (attempt >= 5) {
          parkErrors.push(`${id}: ${(e as Error).message}`);
          throw e;
        }
        connectRetries += 1;
        await sleep(100 * attempt);
        continue;
      }
      // A request the loaded gateway did not read in time (408) is retried too, as an agent's client would.
      if (r.status === 408 && !closing && attempt < 5) {
        connectRetries += 1;
        await sleep(100 * attempt);
        continue;
      }
      if (r.status !== 200 && !closing) parkErrors.push(`${id}: HTTP ${r.status} ${r.body.slice(0, 300)}`);
      expect(r, 200, 'long-poll');
      const view = JSON.parse(r.body) as { id: string; status: string };
      if (view.status === 'pending') continue;
      if (view.id !== id || view.status !== 'approved')
        throw new Error(`long-poll answered ${view.status} for ${view.id}, expected approved ${id}`);
      return r.at;
    }
  })();
  decided.catch(() => undefined);
  // A long-poll has no preamble: the /metrics gauge is the proof it is parked.
  return { opened: Promise.resolve(), parked: { decided, close: () => undefined } };
}

/**
 * One SSE stream for one action, retried like a long-poll when the connection fails or a loaded gateway
 * did not read the request in time (408) before the stream opened.
 */
function parkSse(base: URL, key: string, id: string): { opened: Promise<void>; parked: Parked } {
  let current: { opened: Promise<void>; parked: Parked } | undefined;
  const open = async (attempt: number): Promise<void> => {
    current = openSse(base, key, id);
    try {
      await current.opened;
    } catch (e) {
      if (closing || attempt >= 5) throw e;
      connectRetries += 1;
      await sleep(100 * attempt);
      return open(attempt + 1);
    }
  };
  const opened = open(1);
  const decided = opened.then(() => (current as { parked: Parked }).parked.decided);
  opened.catch(() => undefined);
  decided.catch(() => undefined);
  return { opened, parked: { decided, close: () => current?.parked.close() } };
}

/** One SSE stream for one action: opened once its `retry:` preamble arrives (the server subscribed before writing it). */
function openSse(base: URL, key: string, id: string): { opened: Promise<void>; parked: Parked } {
  let req: http.ClientRequest | undefined;
  let onOpen: () => void = () => undefined;
  let onFail: (e: Error) => void = () => undefined;
  const opened = new Promise<void>((res, rej) => {
    onOpen = res;
    onFail = rej;
  });
  opened.catch(() => undefined);
  const decided = new Promise<number>((resolve, reject) => {
    req = http.request(
      {
        agent: false,
        host: base.hostname,
        port: base.port,
        path: `/v1/events?action=${id}`,
        headers: { authorization: `Bearer ${key}`, accept: 'text/event-stream' },
      },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          const e = new Error(`SSE: expected HTTP 200, got ${res.statusCode}`);
          onFail(e);
          reject(e);
          return;
        }
        onSseFrames(res, ({ retry, event: type, data }) => {
          if (retry !== undefined) onOpen();
          if (type === 'action.approved' && data) {
            const ev = JSON.parse(data) as { action_id: string };
            if (ev.action_id === id) resolve(performance.now());
            else reject(new Error(`SSE for ${id} delivered ${ev.action_id}`));
          }
        });
        res.on('error', reject);
        res.on('end', () => reject(new Error('SSE stream ended before the decision')));
      },
    );
    req.on('error', (e) => {
      onFail(e);
      reject(e);
    });
    req.end();
  });
  decided.catch(() => undefined);
  return { opened, parked: { decided, close: () => req?.destroy() } };
}

const mb = (b: number) => (b / 1024 / 1024).toFixed(1);
const ms = (v: number) => v.toFixed(2);

interface Row {
  dialect: string;
  channel: Channel;
  /** Before parking, 2 s after creating the actions, then after a full collection. */
  rssBeforeRaw: number;
  rssBefore: number;
  /** 2 s after the last waiter parked (issue 18's figure), then after a full collection. */
  rssParked: number;
  rssParkedCollected: number;
  /** Bytes a second the JS heap allocated over IDLE_S with all parked and no request. */
  idleAlloc: number;
  rssParkedFile: number;
  memBefore: string;
  memParked: string;
  heapBefore: number;
  heapParked: number;
  parkMs: number;
  one: number[];
  many: number[];
}

async function run(dialect: 'sqlite' | 'postgres', channel: Channel): Promise<Row> {
  // Each run starts afresh: the last one's teardown set `closing`, which would turn off every retry.
  closing = false;
  parkErrors.length = 0;
  const probeFile = join(os.tmpdir(), `countersign-waiters-alloc-${process.pid}-${dialect}-${channel}`);
  const schema = dialect === 'postgres' ? `cs_bench_${Math.random().toString(16).slice(2, 14)}` : undefined;
  const server: ServerHandle = await startServer(dialect, {
    ...(schema ? { schema } : {}),
    ...(packageDir ? { packageDir } : {}),
    env: {
      BENCH_MAX_WAIT_SECONDS: String(MAX_WAIT_SECONDS),
      BENCH_ALLOC_PROBE_FILE: probeFile,
      NODE_OPTIONS: [
        process.env.NODE_OPTIONS ?? '',
        `--import=${PROBE}`,
        SNAPSHOT_DIR ? `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${SNAPSHOT_DIR}` : '',
      ]
        .join(' ')
        .trim(),
    },
    exposeGc: true,
    ...(serverScript ? { serverScript } : {}),
  });
  const base = new URL(server.url);
  const setup = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const reviewer = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const waiters = new http.Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
  const parked: Parked[] = [];
  /** RSS (and its parts) at each step before parking, so a difference between channels can be placed. */
  const stage = async (what: string) =>
    console.error(
      `waiters: ${dialect} ${channel} ${what}: RSS ${mb(rssBytes(server.pid))} MB; ${await memoryLine(server.pid, setup, base)}`,
    );
  try {
    await stage('started');
    // The baseline first, on a fresh gateway: one waiter at a time, with bench/latency.ts's own method.
    const one = await measureDecisionLatency(channel, {
      url: server.url,
      agentKey: server.keys.agent,
      reviewerKey: server.keys.reviewer,
      iterations: DECISIONS,
      warmup: 20,
      timeLimitMs: 300_000,
    });
    await stage('after the one-waiter baseline');
    const ids = await createPending(setup, base, server.keys.agent, N);
    await sleep(2000);
    await stage('2 s after creating the pending actions');
    const rssBeforeRaw = rssBytes(server.pid);
    // Live heap after a full collection, so the difference is what the waiters hold. RSS too: before it, old
    // space still holds the garbage of creating the actions, as much as V8's last major collection left.
    if (!(await server.gc())) throw new Error('the gateway could not run a collection');
    const rssBefore = rssBytes(server.pid);
    const heapBefore = await heapUsed(setup, base);
    const memBefore = await memoryLine(server.pid, setup, base);
    await heapSnapshot(server.pid, setup, base, `${dialect}-${channel}-${N}-before`);
    const kind = channel === 'long-poll' ? 'long_poll' : 'sse';
    const t0 = performance.now();
    for (let i = 0; i < ids.length; i += PARK_CHUNK) {
      const chunk = ids
        .slice(i, i + PARK_CHUNK)
        .map((id) => (channel === 'long-poll' ? parkLongPoll(waiters, base, server.keys.agent, id) : parkSse(base, server.keys.agent, id)));
      // Opening in chunks keeps the accept queue short; an SSE chunk is done when every stream has its preamble.
      await Promise.all(chunk.map((c) => c.opened));
      for (const c of chunk) parked.push(c.parked);
      // A long-poll has no preamble: pace by the gauge, so a loaded gateway is never sent more than a chunk ahead.
      if (channel === 'long-poll') await untilGauge(setup, base, kind, parked.length, 300_000, 'at least');
    }
    await untilGauge(setup, base, kind, N, 300_000);
    const parkMs = performance.now() - t0;
    await sleep(2000);
    const rssParked = rssBytes(server.pid);
    const rssParkedFile = rssFileBytes(server.pid);
    // Nothing asked of the gateway meanwhile: what the idle waiters alone make it allocate.
    const a0 = allocated(probeFile);
    await sleep(IDLE_S * 1000);
    const a1 = allocated(probeFile);
    const idleAlloc = ((a1.bytes - a0.bytes) / (a1.ms - a0.ms)) * 1000;
    console.error(
      `waiters: idle with all parked: the heap allocated ${(idleAlloc / 1024).toFixed(1)} kB/s over ${((a1.ms - a0.ms) / 1000).toFixed(0)} s`,
    );
    for (let t = 5; t <= SETTLE_S; t += 5) {
      await sleep(5000);
      const spaces = await heapSpaces(setup, base);
      const gcs = /^countersign_nodejs_gc_duration_seconds_count\{kind="minor"\} (\d+)/m.exec(
        (await request(setup, base, 'GET', '/metrics')).body,
      )?.[1];
      console.error(
        `waiters: ${t} s after parking: RSS ${mb(rssBytes(server.pid))} MB, new space ${mb(spaces.new?.used ?? Number.NaN)}/${mb(spaces.new?.total ?? Number.NaN)} MB used/committed, ${gcs} scavenges so far`,
      );
    }
    // Live heap after a full collection: what the waiters hold, not what parking them left behind.
    if (!(await server.gc())) throw new Error('the gateway could not run a collection');
    const heapParked = await heapUsed(setup, base);
    const rssParkedCollected = rssBytes(server.pid);
    const memParked = await memoryLine(server.pid, setup, base);
    await heapSnapshot(server.pid, setup, base, `${dialect}-${channel}-${N}-parked`);
    // Decide some of them one at a time; the rest stay parked throughout.
    const many: number[] = [];
    for (let i = 0; i < DECISIONS; i++) {
      const at = DECIDE === 'first' ? i : N - 1 - i;
      const id = ids[at] as string;
      const w = parked[at] as Parked;
      const t = performance.now();
      const r = await request(reviewer, base, 'POST', `/v1/actions/${id}/reviews`, server.keys.reviewer, { decision: 'approve' });
      expect(r, 200, 'review');
      const arrived = await Promise.race([
        w.decided,
        sleep(10_000).then(() => Promise.reject(new Error(`no decision reached waiter ${id}`))),
      ]);
      many.push(arrived - t);
      // A stream stays open after its decision; the agent is done with it.
      w.close();
    }
    // Everyone not decided is still parked.
    await untilGauge(setup, base, kind, N - DECISIONS, 30_000);
    return {
      dialect,
      channel,
      rssBeforeRaw,
      rssBefore,
      rssParked,
      rssParkedCollected,
      idleAlloc,
      rssParkedFile,
      memBefore,
      memParked,
      heapBefore,
      heapParked,
      parkMs,
      one: one.samples,
      many,
    };
  } finally {
    rmSync(probeFile, { force: true });
    closing = true;
    for (const p of parked) p.close();
    waiters.destroy();
    setup.destroy();
    reviewer.destroy();
    await server.stop().catch((e) => console.error(`stopping the gateway: ${(e as Error).message}`));
    if (schema) {
      const pg = (await import('pg')).default;
      const c = new pg.Client({ connectionString: process.env.COUNTERSIGN_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' });
      await c.connect();
      await c.query(`drop schema if exists ${schema} cascade`);
      await c.end();
    }
  }
}

/**
 * RSS is measured on the gateway as it ships: compiled JS run by plain node. bench/server.ts is bundled
 * (its packages left external) next to the compiled gateway, so no tsx loader runs in the gateway process:
 * its module-hooks thread alone is about 35 MB of RSS. BENCH_WAITERS_TSX=1 loads the TypeScript source
 * through tsx instead.
 */
const BUILD_DIR = join(dirname(fileURLToPath(import.meta.url)), 'results', 'build-waiters');
let packageDir: string | undefined = process.env.BENCH_PACKAGE_DIR;
let serverScript: string | undefined;
if (process.env.BENCH_WAITERS_TSX !== '1') {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  if (!packageDir) {
    console.error(`waiters: compiling packages/countersign/src into ${BUILD_DIR}`);
    const tsc = spawnSync(
      process.execPath,
      [
        join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
        ...['-p', join(root, 'packages', 'countersign', 'tsconfig.build.json'), '--outDir', BUILD_DIR],
        ...['--declaration', 'false', '--sourceMap', 'false', '--incremental', 'false'],
      ],
      { stdio: 'inherit', timeout: 300_000 },
    );
    if (tsc.status !== 0) throw new Error('tsc failed');
    packageDir = BUILD_DIR;
  }
  serverScript = join(dirname(fileURLToPath(import.meta.url)), 'results', 'waiters-server.mjs');
  await build({
    entryPoints: [join(root, 'bench', 'server.ts')],
    outfile: serverScript,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    logLevel: 'warning',
  });
}

if (SNAPSHOT_DIR) mkdirSync(SNAPSHOT_DIR, { recursive: true });

process.on('SIGINT', () => {
  killAll();
  process.exit(130);
});

const rows: Row[] = [];
let failed = false;
for (const dialect of DIALECTS)
  for (const channel of CHANNELS) {
    try {
      console.error(`waiters: ${dialect} ${channel}, ${N} parked, gateway node flags: ${GATEWAY_NODE_FLAGS || 'none'}…`);
      rows.push(await run(dialect, channel));
    } catch (e) {
      failed = true;
      console.error(`FAILURE ${dialect} ${channel}: ${(e as Error).stack ?? e}`);
    }
  }

console.log(
  `\n${N} waiters on one gateway process (node flags: ${GATEWAY_NODE_FLAGS || 'none'}); ${DECISIONS} decisions each, of the ${DECIDE} parked; ${connectRetries} connection retries while parking; load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log(
  '| dialect | channel | RSS before (collected) | RSS parked (of it file-mapped; collected) | RSS bytes/waiter (collected) | heap before | heap parked | heap bytes/waiter | idle alloc | park all | 1 waiter p50 / p99 ms | N parked p50 / p99 ms |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows)
  console.log(
    `| ${r.dialect} | ${r.channel} | ${mb(r.rssBeforeRaw)} MB (${mb(r.rssBefore)}) | ${mb(r.rssParked)} MB (${mb(r.rssParkedFile)}; ${mb(r.rssParkedCollected)}) | ${Math.round((r.rssParkedCollected - r.rssBefore) / N)} | ${mb(r.heapBefore)} MB | ${mb(r.heapParked)} MB | ${Math.round((r.heapParked - r.heapBefore) / N)} | ${(r.idleAlloc / 1024).toFixed(0)} kB/s | ${(r.parkMs / 1000).toFixed(1)} s | ${ms(percentile(r.one, 50))} / ${ms(percentile(r.one, 99))} | ${ms(percentile(r.many, 50))} / ${ms(percentile(r.many, 99))} |`,
  );
console.log('\nMemory after a full collection (MB), before parking → with all parked:');
for (const r of rows) console.log(`- ${r.dialect} ${r.channel}: ${r.memBefore}\n  → ${r.memParked}`);
process.exit(failed ? 1 : 0);
