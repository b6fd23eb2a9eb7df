/**
 * MCP proxy benchmark: the latency a read-only pass-through call pays for going through
 * `countersign mcp proxy`, against the same call made directly, in one run.
 *
 *   node --import tsx bench/mcp-proxy.ts
 *
 * The MCP paths use the MCP SDK's own client over stdio to the real
 * @modelcontextprotocol/server-filesystem, calling `read_text_file` on a small file:
 *
 *   direct:  client ──stdio──▶ server-filesystem
 *   relay:   client ──stdio──▶ bench/mcp-relay.ts ──stdio──▶ server-filesystem   (the SDK hop alone)
 *   proxied: client ──stdio──▶ countersign mcp proxy ──stdio──▶ server-filesystem
 *                                   └─HTTP─▶ gateway (own process, SQLite): propose+redeem, report
 *   gateway alone: bench ──HTTP─▶ gateway: the proxy's proposal for the call, then its report (untimed)
 *
 * The gateway runs in its own child (bench/server.ts sqlite) with its default policy (trusting the bench agent's hints), which
 * allows `readOnlyHint: true` at once; so each proxied call is one request that is approved by
 * policy and redeemed in the same durable commit (signed receipt), the upstream call, and a
 * result report sent after the answer (not on the call's path). The relay row is the floor of
 * any proxy built on the MCP SDK: a process in the middle that only forwards. Calls rotate
 * between the paths so drift hits all alike. Set BENCH_MCP_N (default 400), BENCH_MCP_WARMUP (50) and
 * BENCH_MCP_GATEWAY_WARMUP (2000 proposals the gateway answers first, so its code is optimized as a running server's is).
 *
 * Issue 19's target is the line it prints last: proxied − relay (mean) ≤ 1.5 ms. Because the machine
 * may be shared, it also prints CPU per call (from /proc, over the timed calls) of the relay, the
 * proxy and the gateway, which move much less with load than wall time. BENCH_MCP_PROF_DIR=dir
 * writes V8 CPU profiles of the relay, the proxy and the gateway there (summarise them with bench/profile-summary.ts).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createClient } from '@countersign/sdk';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { createGatewayFetch } from '../packages/countersign/src/mcp/gateway-fetch.js';
import { killAll, type ServerHandle, startServer } from './child.js';
import { percentile } from './latency.js';
import type { StatsMessage } from './protocol.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const FS_SERVER = join(ROOT, 'node_modules/@modelcontextprotocol/server-filesystem/dist/index.js');
const CLI_MAIN = join(ROOT, 'packages/countersign/src/cli/main.ts');
const RELAY = join(ROOT, 'bench/mcp-relay.ts');
/** Issue 19: an allowed call costs at most this much more (mean) than the bare relay's. */
const TARGET_ADDED_MS = 1.5;

function envInt(name: string, dflt: number, min: number, max: number): number {
  const v = process.env[name];
  const n = v === undefined || v === '' ? dflt : Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be a whole number in [${min}, ${max}]`);
  return n;
}

const N = envInt('BENCH_MCP_N', 400, 10, 100_000);
const WARMUP = envInt('BENCH_MCP_WARMUP', 50, 0, 10_000);
/**
 * Proposals (each with its report, one at a time) the gateway answers before any path is timed. V8 optimizes a
 * function only once it has run enough, and most of the gateway's run once per proposal: one at a time, the route,
 * the policy, the log append, the tallies are still compiled by TurboFan after 2,000-3,000 proposals (--trace-opt),
 * and at 1,500 the compilers were a third of a proposal's instructions (callgrind, bench/README.md). Without this the
 * bench timed the first few hundred proposals after a start, not the gateway a long-running server is.
 */
const GATEWAY_WARMUP = envInt('BENCH_MCP_GATEWAY_WARMUP', 2000, 0, 100_000);
const PROF_DIR = process.env.BENCH_MCP_PROF_DIR ? resolve(process.env.BENCH_MCP_PROF_DIR) : undefined;
const PROF_ARGS = PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROF_DIR}`] : [];

interface Connected {
  client: Client;
  /** CPU time (user + system) the child process has used so far, in ms (from /proc; Linux only). */
  cpuMs(): number | undefined;
}

function procCpuMs(pid: number | null): number | undefined {
  if (pid === null) return undefined;
  try {
    // Fields after the parenthesised command name: utime and stime are the 12th and 13th (in clock ticks, 100 per second).
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

async function connect(command: string, args: string[], env: Record<string, string>): Promise<Connected> {
  const client = new Client({ name: 'bench', version: '1.0.0' });
  const transport = new StdioClientTransport({ command, args, env, cwd: ROOT, stderr: 'ignore' });
  await client.connect(transport);
  return { client, cpuMs: () => procCpuMs(transport.pid) };
}

/** One call's wall time in ms; fails the run on an error result (a benchmark of failures proves nothing). */
async function timeCall(client: Client, path: string): Promise<number> {
  const t = performance.now();
  const r = await client.callTool({ name: 'read_text_file', arguments: { path } });
  const ms = performance.now() - t;
  if (r.isError) throw new Error(`read_text_file failed: ${JSON.stringify(r.content)}`);
  return ms;
}

function summary(xs: number[]): { p50: number; p99: number; mean: number } {
  const sorted = [...xs].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean: xs.reduce((a, b) => a + b, 0) / xs.length };
}

const gatewayFetch = createGatewayFetch();

/**
 * The gateway's share on its own: the bench proposes what the proxy proposes for the same call (the
 * upstream's definition in its metadata) with redeem, through the SDK on the proxy's HTTP client,
 * and reports the result afterwards, off the timed path, as the proxy does. The path ends when that
 * report is answered: the report is the bench's own traffic, and left in flight it landed on the next
 * paths' calls (in one run, 110 of 200 proxied calls started while it was still at the gateway), so
 * the proxied row measured the bench's report as well as its own proposal.
 */
async function gatewayAlone(gateway: ServerHandle, direct: Client, file: string) {
  const tool = (await direct.listTools()).tools.find((t) => t.name === 'read_text_file');
  if (!tool) throw new Error('the filesystem server lists no read_text_file');
  const cs = createClient({ url: gateway.url, apiKey: gateway.keys.agent, fetch: gatewayFetch.fetch, propagateTrace: false });
  const mcp = {
    server: 'bench-fs',
    exposed_name: tool.name,
    definition: '0'.repeat(64),
    tool: { description: tool.description ?? null, annotations: tool.annotations ?? null, input_schema: tool.inputSchema },
  };
  const hints = { readOnlyHint: true, destructiveHint: false, idempotentHint: false, openWorldHint: false };
  let n = 0;
  return {
    async time(): Promise<number> {
      n += 1;
      const proposal = {
        tool: tool.name,
        arguments: { path: file },
        resource: 'bench-fs',
        annotations: hints,
        session_id: 'bench',
        metadata: { mcp },
      };
      const t = performance.now();
      const action = await cs.propose(proposal, { idempotencyKey: `bench-alone-${n}`, redeem: true });
      const ms = performance.now() - t;
      if (action.status !== 'approved' || action.redeemed !== true)
        throw new Error(`the bench's proposal was not allowed at once: ${action.status}`);
      await cs.reportResult(action.id, 'succeeded', { is_error: false, content_types: ['text'], text: 'x'.repeat(1024) });
      return ms;
    },
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cs-bench-mcp-'));
  const file = join(dir, 'small.txt');
  writeFileSync(file, 'x'.repeat(1024));
  const gateway = await startServer('sqlite', PROF_DIR ? { cpuProfDir: PROF_DIR } : {});
  const connected: Connected[] = [];
  try {
    const base = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir };
    const direct = await connect(process.execPath, [FS_SERVER, dir], base);
    connected.push(direct);
    const relay = await connect(process.execPath, [...PROF_ARGS, '--import', 'tsx', RELAY, process.execPath, FS_SERVER, dir], base);
    connected.push(relay);
    const proxied = await connect(
      process.execPath,
      [...PROF_ARGS, '--import', 'tsx', CLI_MAIN, 'mcp', 'proxy', '--pins', join(dir, 'pins.json'), '--', process.execPath, FS_SERVER, dir],
      { ...base, COUNTERSIGN_URL: gateway.url, COUNTERSIGN_AGENT_KEY: gateway.keys.agent, COUNTERSIGN_LOG_LEVEL: 'warn' },
    );
    connected.push(proxied);

    const alone = await gatewayAlone(gateway, direct.client, file);
    for (let i = 0; i < GATEWAY_WARMUP; i++) await alone.time();
    const paths: (() => Promise<number>)[] = [...connected.map((c) => () => timeCall(c.client, file)), alone.time];
    for (let i = 0; i < WARMUP; i++) for (const time of paths) await time();
    // Let the last warm-up result reports land before the CPU counters start.
    await new Promise((r) => setTimeout(r, 200));
    gateway.resetStats();
    const timedFrom = monotonicUs();
    const cpuBefore = connected.map((c) => c.cpuMs());
    const times: number[][] = paths.map(() => []);
    for (let i = 0; i < N; i++) {
      // Rotate which goes first, so none always follows another's garbage.
      for (let j = 0; j < paths.length; j++) {
        const k = (i + j) % paths.length;
        times[k]?.push(await (paths[k] as () => Promise<number>)());
      }
    }
    const timedTo = monotonicUs();
    await new Promise((r) => setTimeout(r, 200));
    const cpu = connected.map((c, k) => {
      const before = cpuBefore[k];
      const after = c.cpuMs();
      return before === undefined || after === undefined ? undefined : ((after - before) * 1000) / N;
    });
    const stats = await gateway.stats();
    const [d, r, p, g] = times.map(summary) as [Stats, Stats, Stats, Stats];
    // Both the proxy's calls and the bench's own proposals were allowed calls with a result report.
    report(d, r, p, g, { relay: cpu[1], proxy: cpu[2], gateway: (stats.cpuMs * 1000) / (2 * N) }, stats);
    window = { from: timedFrom, to: timedTo };
  } finally {
    for (const c of connected) await c.client.close().catch(() => undefined);
    gatewayFetch.close();
    await gateway.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  if (PROF_DIR && window) trimProfiles(PROF_DIR, window);
}

let window: { from: number; to: number } | undefined;

/** Microseconds on the monotonic clock V8 stamps profile samples with (CLOCK_MONOTONIC on Linux, as hrtime). */
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

interface CpuProfile {
  nodes: unknown[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/**
 * Writes a `.timed.cpuprofile` beside each profile with only the samples taken during the timed
 * calls, so start-up (module loading through tsx, the first pins) does not swamp the per-call work.
 */
function trimProfiles(dir: string, w: { from: number; to: number }): void {
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.cpuprofile') || name.endsWith('.timed.cpuprofile')) continue;
    const prof = JSON.parse(readFileSync(join(dir, name), 'utf8')) as CpuProfile;
    const samples: number[] = [];
    const deltas: number[] = [];
    let t = prof.startTime;
    let last = w.from;
    prof.samples.forEach((id, i) => {
      t += prof.timeDeltas[i] ?? 0;
      if (t < w.from || t > w.to) return;
      samples.push(id);
      deltas.push(t - last);
      last = t;
    });
    if (samples.length === 0) continue;
    const timed = { ...prof, startTime: w.from, endTime: w.to, samples, timeDeltas: deltas };
    writeFileSync(join(dir, name.replace(/\.cpuprofile$/, '.timed.cpuprofile')), JSON.stringify(timed));
  }
}

type Stats = ReturnType<typeof summary>;

/** CPU µs per timed call, by process (undefined where /proc could not be read). */
interface CpuPerCall {
  relay: number | undefined;
  proxy: number | undefined;
  gateway: number;
}

function report(d: Stats, r: Stats, p: Stats, g: Stats, cpu: CpuPerCall, gw: StatsMessage): void {
  const f = (x: number) => x.toFixed(2);
  const us = (x: number | undefined) => (x === undefined ? 'n/a' : `${Math.round(x)} µs`);
  const rows = [
    ['path', 'p50 ms', 'p99 ms', 'mean ms', 'mean / direct'],
    ['direct', f(d.p50), f(d.p99), f(d.mean), '1.00'],
    ['relay (SDK hop only)', f(r.p50), f(r.p99), f(r.mean), f(r.mean / d.mean)],
    ['proxied (Countersign)', f(p.p50), f(p.p99), f(p.mean), f(p.mean / d.mean)],
    ['added by the hop', f(r.p50 - d.p50), f(r.p99 - d.p99), f(r.mean - d.mean), ''],
    ['added by approval', f(p.p50 - r.p50), f(p.p99 - r.p99), f(p.mean - r.mean), ''],
    ['  of which the gateway answers a proposal (from the bench)', f(g.p50), f(g.p99), f(g.mean), ''],
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  console.log(
    `\nMCP proxy: read_text_file (1 KiB) over stdio, ${N} calls each (after ${WARMUP} warm-up), gateway on SQLite (warmed with ${GATEWAY_WARMUP} proposals)\n`,
  );
  for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('   '));
  console.log(
    `\nCPU per call: relay process ${us(cpu.relay)}, proxy process ${us(cpu.proxy)} (${us(
      cpu.proxy === undefined || cpu.relay === undefined ? undefined : cpu.proxy - cpu.relay,
    )} more than the relay), gateway ${us(cpu.gateway)} per allowed call (its proposal and its result report)`,
  );
  console.log(
    `gateway commits over the timed calls: ${gw.batches} transactions for ${gw.ops} operations, ${f(gw.txMs / Math.max(1, gw.batches))} ms each (mean, inside the transaction)`,
  );
  console.log(`gateway actions recorded: ${gw.actions} (every proxied call and every bench proposal, warm-up included, is an action)`);
  const added = p.mean - r.mean;
  console.log(
    `\nissue 19 target: proxied − relay (mean) = ${f(added)} ms, target ≤ ${TARGET_ADDED_MS} ms: ${added <= TARGET_ADDED_MS ? 'PASS' : 'MISS'}`,
  );
}

process.on('exit', killAll);
main().catch((e) => {
  console.error(e);
  killAll();
  process.exit(1);
});
