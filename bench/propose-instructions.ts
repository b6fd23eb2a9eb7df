/**
 * Instructions per policy-allowed proposal (issue 19), a figure the machine's load does not move: an in-process
 * gateway of a build (the package's src compiled to JS, as bench/ab-inject.ts makes them) takes N allowed
 * `POST /v1/actions` through `app.inject`, 50 at a time, after a warm-up, in a child run under
 * `valgrind --tool=callgrind` with instrumentation switched on for the N measured proposals only; the total over N
 * is the figure. Everything the node process executes counts (JIT code, V8's GC threads, better-sqlite3 and
 * SQLite, libuv's threads); PostgreSQL's server does not (another process), so on PostgreSQL it is the gateway's
 * side alone. The background work proposals cause (consumers, checkpoints, the event feed) counts when it runs
 * inside the window.
 *
 *   # each build: the package's src compiled to JS with the same layout, under bench/results/
 *   mkdir -p /tmp/base && git archive main packages/countersign/src | tar -x -C /tmp/base
 *   npx esbuild $(cd /tmp/base && find packages/countersign/src -name '*.ts' | sed 's|^|/tmp/base/|') \
 *     --outdir=bench/results/pi-a --format=esm --platform=node --target=node20
 *   npx esbuild $(find packages/countersign/src -name '*.ts') --outdir=bench/results/pi-b --format=esm --platform=node --target=node20
 *   node --import tsx bench/propose-instructions.ts bench/results/pi-a bench/results/pi-b
 *   PI_PROF=1 node --import tsx bench/propose-instructions.ts bench/results/pi-b   # V8's profile instead (shares by function)
 *
 * Knobs: PI_C (proposals in flight, 50; 1 for one agent's calls one after another), PI_BODY=mcp (the MCP proxy's proposal,
 * redeemed at once, instead of the core bench's), PI_N (measured proposals, 1,000), PI_WARMUP (3,000: with fewer, V8's optimizing compiler is still a third of the window), PI_DB ("sqlite,postgres"), PI_KEEP=1 (keep the callgrind
 * output, for callgrind_annotate), PI_NODE_FLAGS (for the measured process, e.g. "--max-semi-space-size=32"), PI_PROF=1 (no valgrind: V8's sampling profiler on for the N measured proposals
 * only, summarized by bench/profile-summary.ts).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { loadBuild } from './load-build.js';

const PG_URL = process.env.COUNTERSIGN_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** Proposals in flight at once (PI_C): 50 like the core bench's load; 1 is one agent's calls one after another. */
const C = Number(process.env.PI_C ?? 50);
/** The core benchmark's proposal: the built-in policy allows it at once. */
const CORE_BODY = JSON.stringify({
  tool: 'read_file',
  arguments: { path: '/srv/app/README.md', encoding: 'utf8' },
  purpose: 'throughput benchmark',
  annotations: { readOnlyHint: true },
});
/** PI_BODY=mcp: what `countersign mcp proxy` proposes for bench/mcp-proxy.ts's call, redeemed at once (`?redeem=true`). */
const MCP_BODY = JSON.stringify({
  tool: 'read_text_file',
  arguments: { path: '/tmp/cs-bench-mcp/small.txt' },
  resource: 'bench-fs',
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  session_id: 'bench',
  metadata: {
    mcp: {
      server: 'bench-fs',
      exposed_name: 'read_text_file',
      definition: '0'.repeat(64),
      tool: {
        description: 'Read the complete contents of a file from the file system as text.',
        annotations: { readOnlyHint: true },
        input_schema: {
          type: 'object',
          properties: { path: { type: 'string' }, tail: { type: 'number' }, head: { type: 'number' } },
          required: ['path'],
        },
      },
    },
  },
});
const MCP = process.env.PI_BODY === 'mcp';

/** The measured process: start a gateway of `buildDir`, warm up, send `n` allowed proposals, close. */
async function child(buildDir: string, dialect: string, warmup: number, n: number): Promise<void> {
  const { loadConfig, addAgent, addUser, startGateway } = await loadBuild(buildDir);
  const pg = dialect === 'postgres';
  const dir = mkdtempSync(join(tmpdir(), 'cs-pi-'));
  const cfg = loadConfig({ env: {}, overrides: { dataDir: dir, port: 0, host: '127.0.0.1', ...(pg ? { databaseUrl: PG_URL } : {}) } });
  // Under valgrind a new pool connection's handshake can take longer than the 5 s default.
  const config = {
    ...cfg,
    database: { ...cfg.database, connectTimeoutMs: 120_000 },
    policy: { ...cfg.policy, trust_annotations: ['bench-agent'] },
  };
  const schema = `cs_pi_${process.pid}_${Date.now().toString(36)}`;
  const gw = await startGateway(config, { listen: false, logger: pino({ level: 'warn' }, pino.destination(2)), ...(pg ? { schema } : {}) });
  const admin = { type: 'admin', id: 'bench' };
  await addUser(gw.deps, admin, { email: 'owner@bench.test', role: 'reviewer' });
  const agent = await addAgent(gw.deps, admin, { name: 'bench-agent', owner: 'owner@bench.test' });
  const request = {
    method: 'POST',
    url: MCP ? '/v1/actions?redeem=true' : '/v1/actions',
    headers: { authorization: `Bearer ${agent.apiKey}`, host: 'localhost', 'content-type': 'application/json' },
    payload: MCP ? MCP_BODY : CORE_BODY,
  };
  const send = async (count: number) => {
    let next = 0;
    const caller = async () => {
      while (next < count) {
        next += 1;
        const r = await gw.app.inject(request);
        if (r.statusCode !== 201) throw new Error(`${r.statusCode} ${r.body}`);
      }
    };
    await Promise.all(Array.from({ length: C }, caller));
  };
  await send(warmup);
  const prof = process.env.PI_PROF_OUT ? await startProfile() : undefined;
  // Every build's window starts from a collected heap: a major GC is a sixth of a window's instructions when one
  // falls inside it, so where the last one happened to fall would otherwise decide an A/B.
  (globalThis as { gc?: () => void }).gc?.();
  // Under callgrind the driver switches instrumentation on between "measure" and "done" (see callgrind()).
  if (process.env.PI_HANDSHAKE === '1') await handshake('measure');
  await send(n);
  if (process.env.PI_HANDSHAKE === '1') await handshake('done');
  if (prof) await prof();
  await gw.close();
  if (pg) {
    const { default: pgLib } = await import('pg');
    const c = new pgLib.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await c.end();
  }
  rmSync(dir, { recursive: true, force: true });
}

/** Says `what` on stdout and waits for the driver's line on stdin. */
async function handshake(what: string): Promise<void> {
  process.stdout.write(`${what}\n`);
  await new Promise<void>((done) => process.stdin.once('data', () => done()));
}

/** The measured requests alone under V8's sampling profiler (start-up and warm-up left out); returns "stop and save". */
async function startProfile(): Promise<() => Promise<void>> {
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(process.env.PI_PROF_OUT as string, JSON.stringify(profile));
    session.disconnect();
  };
}

const self = fileURLToPath(import.meta.url);
/**
 * The measured process runs this file compiled to plain JS (bench/results/, so its packages resolve): under tsx every
 * module would go through the loader's hooks thread, which is start-up work valgrind makes last minutes.
 */
function compiledSelf(): string {
  const out = join(self, '..', 'results', 'propose-instructions.mjs');
  const r = spawnSync(
    'npx',
    ['esbuild', self, '--bundle', `--outfile=${out}`, '--format=esm', '--platform=node', '--packages=external', '--log-level=warning'],
    {
      stdio: 'inherit',
    },
  );
  if (r.status !== 0) throw new Error('esbuild failed');
  return out;
}
let nodeArgs: string[] = [];
/** PI_NODE_FLAGS: flags for the measured node process (V8's heap sizes, say), space-separated. */
const nodeFlags = (process.env.PI_NODE_FLAGS ?? '').split(' ').filter(Boolean);

/**
 * Instructions of the `n` measured proposals alone: valgrind starts with instrumentation off (start-up and warm-up
 * run several times faster that way), the driver switches it on when the child says "measure" and has callgrind
 * dump its counters when the child says "done". Every thread of the process counts.
 */
async function callgrind(buildDir: string, dialect: string, warmup: number, n: number): Promise<number> {
  const out = mkdtempSync(join(tmpdir(), 'cs-pi-cg-'));
  const file = join(out, 'callgrind.out');
  const child = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      '--instr-atstart=no',
      `--callgrind-out-file=${file}`,
      process.execPath,
      '--expose-gc',
      ...nodeFlags,
      ...nodeArgs,
      buildDir,
      dialect,
      String(warmup),
      String(n),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, PI_HANDSHAKE: '1' } },
  );
  const control = (...args: string[]) => {
    const r = spawnSync('callgrind_control', [...args, String(child.pid)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`callgrind_control ${args.join(' ')}: ${r.stderr}`);
  };
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  let buffered = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buffered += chunk;
    for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
      const line = buffered.slice(0, i);
      buffered = buffered.slice(i + 1);
      if (line === 'measure') control('--instr=on');
      else if (line === 'done') control('--dump=measured');
      else continue;
      child.stdin.write('go\n');
    }
  });
  const code = await exited;
  if (code !== 0) throw new Error(`callgrind run failed (${code})`);
  const text = readFileSync(`${file}.1`, 'utf8');
  // PI_KEEP=1 keeps the output for callgrind_annotate (which native functions: SQLite, OpenSSL, V8's GC; JIT code is ???).
  if (process.env.PI_KEEP === '1') console.log(`  kept ${file}.1`);
  else rmSync(out, { recursive: true, force: true });
  const m = /^(?:summary|totals): (\d+)/m.exec(text);
  if (!m) throw new Error('no totals in the callgrind output');
  return Number(m[1]);
}

function profile(buildDir: string, dialect: string, warmup: number, n: number): void {
  const file = join(mkdtempSync(join(tmpdir(), 'cs-pi-prof-')), `${dialect}.cpuprofile`);
  const r = spawnSync(process.execPath, [...nodeFlags, ...nodeArgs, buildDir, dialect, String(warmup), String(n)], {
    stdio: 'inherit',
    env: { ...process.env, PI_PROF_OUT: file },
  });
  if (r.status !== 0) throw new Error(`profiled run failed (${r.status})`);
  console.log(`${dialect} ${buildDir}: ${file}`);
  spawnSync(process.execPath, ['--import', 'tsx', join(self, '..', 'profile-summary.ts'), file, '60'], { stdio: 'inherit' });
}

if (process.argv[2] === 'child') {
  const [buildDir, dialect, warmup, n] = process.argv.slice(3);
  await child(buildDir as string, dialect as string, Number(warmup), Number(n));
  process.exit(0);
} else {
  const builds = process.argv.slice(2);
  if (builds.length === 0) {
    console.error('usage: propose-instructions.ts <build> [<build>...]');
    process.exit(2);
  }
  const n = Number(process.env.PI_N ?? 1000);
  const warmup = Number(process.env.PI_WARMUP ?? 3000);
  const dialects = (process.env.PI_DB ?? 'sqlite,postgres').split(',');
  nodeArgs = [compiledSelf(), 'child'];
  const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  for (const dialect of dialects) {
    for (const b of builds) {
      if (process.env.PI_PROF === '1') {
        profile(b, dialect, warmup, n);
        continue;
      }
      const total = await callgrind(b, dialect, warmup, n);
      console.log(
        `${dialect} ${b}: ${Math.round(total / n).toLocaleString('en')} instructions per allowed proposal ` +
          `(${total.toLocaleString('en')} for ${n} after ${warmup} of warm-up; load ${loadavg()})`,
      );
    }
  }
}
