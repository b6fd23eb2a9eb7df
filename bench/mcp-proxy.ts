/**
 * MCP proxy benchmark: the latency a read-only pass-through call pays for going through
 * `countersign mcp proxy`, against the same call made directly, in one run.
 *
 *   node --import tsx bench/mcp-proxy.ts
 *
 * Both paths use the MCP SDK's own client over stdio to the real
 * @modelcontextprotocol/server-filesystem, calling `read_text_file` on a small file:
 *
 *   direct:  client ──stdio──▶ server-filesystem
 *   relay:   client ──stdio──▶ bench/mcp-relay.ts ──stdio──▶ server-filesystem   (the SDK hop alone)
 *   proxied: client ──stdio──▶ countersign mcp proxy ──stdio──▶ server-filesystem
 *                                   └─HTTP─▶ gateway (own process, SQLite): propose+redeem, report
 *
 * The gateway runs in its own child (bench/server.ts sqlite) with its default policy (trusting the bench agent's hints), which
 * allows `readOnlyHint: true` at once; so each proxied call is one request that is approved by
 * policy and redeemed in the same durable commit (signed receipt), the upstream call, and a
 * result report sent after the answer (not on the call's path). The relay row is the floor of
 * any proxy built on the MCP SDK: a process in the middle that only forwards. Calls rotate
 * between the paths so drift hits all alike. Set BENCH_MCP_N (default 400) and BENCH_MCP_WARMUP (50).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { killAll, startServer } from './child.js';
import { percentile } from './latency.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const FS_SERVER = join(ROOT, 'node_modules/@modelcontextprotocol/server-filesystem/dist/index.js');
const CLI_MAIN = join(ROOT, 'packages/countersign/src/cli/main.ts');
const RELAY = join(ROOT, 'bench/mcp-relay.ts');
const TARGET_RATIO = 1.2;

function envInt(name: string, dflt: number, min: number, max: number): number {
  const v = process.env[name];
  const n = v === undefined || v === '' ? dflt : Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be a whole number in [${min}, ${max}]`);
  return n;
}

const N = envInt('BENCH_MCP_N', 400, 10, 100_000);
const WARMUP = envInt('BENCH_MCP_WARMUP', 50, 0, 10_000);

async function connect(command: string, args: string[], env: Record<string, string>): Promise<Client> {
  const client = new Client({ name: 'bench', version: '1.0.0' });
  await client.connect(new StdioClientTransport({ command, args, env, cwd: ROOT, stderr: 'ignore' }));
  return client;
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

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cs-bench-mcp-'));
  const file = join(dir, 'small.txt');
  writeFileSync(file, 'x'.repeat(1024));
  const gateway = await startServer('sqlite');
  const clients: Client[] = [];
  try {
    const base = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir };
    const direct = await connect(process.execPath, [FS_SERVER, dir], base);
    clients.push(direct);
    const proxied = await connect(
      process.execPath,
      ['--import', 'tsx', CLI_MAIN, 'mcp', 'proxy', '--pins', join(dir, 'pins.json'), '--', process.execPath, FS_SERVER, dir],
      { ...base, COUNTERSIGN_URL: gateway.url, COUNTERSIGN_AGENT_KEY: gateway.keys.agent, COUNTERSIGN_LOG_LEVEL: 'warn' },
    );
    clients.push(proxied);
    const relay = await connect(process.execPath, ['--import', 'tsx', RELAY, process.execPath, FS_SERVER, dir], base);
    clients.push(relay);

    const paths = [direct, relay, proxied];
    for (let i = 0; i < WARMUP; i++) for (const c of paths) await timeCall(c, file);
    const times: number[][] = paths.map(() => []);
    for (let i = 0; i < N; i++) {
      // Rotate which goes first, so none always follows another's garbage.
      for (let j = 0; j < paths.length; j++) {
        const k = (i + j) % paths.length;
        times[k]?.push(await timeCall(paths[k] as Client, file));
      }
    }
    const stats = await gateway.stats();
    const [d, r, p] = times.map(summary) as [Stats, Stats, Stats];
    report(d, r, p, stats.actions);
  } finally {
    for (const c of clients) await c.close().catch(() => undefined);
    await gateway.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

type Stats = ReturnType<typeof summary>;

function report(d: Stats, r: Stats, p: Stats, actions: number): void {
  const f = (x: number) => x.toFixed(2);
  const rows = [
    ['path', 'p50 ms', 'p99 ms', 'mean ms', 'mean / direct'],
    ['direct', f(d.p50), f(d.p99), f(d.mean), '1.00'],
    ['relay (SDK hop only)', f(r.p50), f(r.p99), f(r.mean), f(r.mean / d.mean)],
    ['proxied (Countersign)', f(p.p50), f(p.p99), f(p.mean), f(p.mean / d.mean)],
    ['added by the hop', f(r.p50 - d.p50), f(r.p99 - d.p99), f(r.mean - d.mean), ''],
    ['added by approval', f(p.p50 - r.p50), f(p.p99 - r.p99), f(p.mean - r.mean), ''],
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  console.log(`\nMCP proxy: read_text_file (1 KiB) over stdio, ${N} calls each (after ${WARMUP} warm-up), gateway on SQLite\n`);
  for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('   '));
  const ratio = p.mean / d.mean;
  console.log(`\nproxied / direct (mean): ${ratio.toFixed(2)}×   target ≤ ${TARGET_RATIO}×: ${ratio <= TARGET_RATIO ? 'met' : 'NOT met'}`);
  console.log(`relay / direct (mean): ${(r.mean / d.mean).toFixed(2)}× (the floor for any proxy process on the MCP SDK)`);
  console.log(`gateway actions recorded: ${actions} (every proxied call, warm-up included, is an action)`);
}

process.on('exit', killAll);
main().catch((e) => {
  console.error(e);
  killAll();
  process.exit(1);
});
