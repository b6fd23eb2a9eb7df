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
 *   proxied: client ──stdio──▶ countersign mcp proxy ──stdio──▶ server-filesystem
 *                                   └─HTTP─▶ gateway (own process, SQLite): propose, redeem, report
 *
 * The gateway runs in its own child (bench/server.ts sqlite) with its default policy, which
 * allows `readOnlyHint: true` at once; so each proxied call is a proposal approved by policy
 * (signed receipt, one durable commit), a receipt redemption (one more), the upstream call, and
 * a result report sent after the answer (not on the call's path). Calls alternate between the
 * two paths so drift hits both alike. Set BENCH_MCP_N (default 400) and BENCH_MCP_WARMUP (50).
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

    for (let i = 0; i < WARMUP; i++) {
      await timeCall(direct, file);
      await timeCall(proxied, file);
    }
    const d: number[] = [];
    const p: number[] = [];
    for (let i = 0; i < N; i++) {
      // Alternate which goes first, so neither always follows the other's garbage.
      if (i % 2 === 0) {
        d.push(await timeCall(direct, file));
        p.push(await timeCall(proxied, file));
      } else {
        p.push(await timeCall(proxied, file));
        d.push(await timeCall(direct, file));
      }
    }
    const stats = await gateway.stats();
    report(summary(d), summary(p), stats.actions);
  } finally {
    for (const c of clients) await c.close().catch(() => undefined);
    await gateway.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function report(d: ReturnType<typeof summary>, p: ReturnType<typeof summary>, actions: number): void {
  const f = (x: number) => x.toFixed(2);
  const rows = [
    ['path', 'p50 ms', 'p99 ms', 'mean ms'],
    ['direct', f(d.p50), f(d.p99), f(d.mean)],
    ['proxied', f(p.p50), f(p.p99), f(p.mean)],
    ['added', f(p.p50 - d.p50), f(p.p99 - d.p99), f(p.mean - d.mean)],
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  console.log(`\nMCP proxy: read_text_file (1 KiB) over stdio, ${N} calls each (after ${WARMUP} warm-up), gateway on SQLite\n`);
  for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('   '));
  const ratio = p.mean / d.mean;
  console.log(`\nproxied / direct (mean): ${ratio.toFixed(2)}×   target ≤ ${TARGET_RATIO}×: ${ratio <= TARGET_RATIO ? 'met' : 'NOT met'}`);
  console.log(`gateway actions recorded: ${actions} (every proxied call, warm-up included, is an action)`);
}

process.on('exit', killAll);
main().catch((e) => {
  console.error(e);
  killAll();
  process.exit(1);
});
