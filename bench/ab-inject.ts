/**
 * In-process A/B of two builds of the gateway: the same requests through `app.inject` on one gateway of
 * each build in one process, in alternating rounds, judged by the process's CPU per request. Robust on a
 * loaded machine where wall-clock figures are not (both builds suffer the same neighbours), but `inject`
 * skips the socket layer: confirm a change with the core benchmark too.
 *
 *   # each build: the package's src compiled to JS with the same layout, under bench/results/
 *   mkdir -p /tmp/base && git archive main packages/countersign/src | tar -x -C /tmp/base
 *   npx esbuild $(cd /tmp/base && find packages/countersign/src -name '*.ts' | sed 's|^|/tmp/base/|') \
 *     --outdir=bench/results/ab-a --format=esm --platform=node --target=node20
 *   npx esbuild $(find packages/countersign/src -name '*.ts') --outdir=bench/results/ab-b --format=esm --platform=node --target=node20
 *   node --import tsx bench/ab-inject.ts bench/results/ab-a bench/results/ab-b
 *
 * Knobs: AB_ROUNDS (10 per build), AB_N (requests per round, 2,000), AB_CONNECTIONS (50), AB_PG=1 (PostgreSQL,
 * fresh schemas), AB_GET=/healthz (a GET instead of the auto-approved proposal: the HTTP layer alone).
 * Prints medians, the median of the round-pair ratios and the load average; run the same build against itself
 * once to see the noise floor.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadBuild } from './load-build.js';

const ROUNDS = Number(process.env.AB_ROUNDS ?? 10);
const N = Number(process.env.AB_N ?? 2000);
const C = Number(process.env.AB_CONNECTIONS ?? 50);
const PG = process.env.AB_PG === '1';
const GET = process.env.AB_GET;
const PG_URL = process.env.COUNTERSIGN_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** The core benchmark's proposal: the built-in policy allows it at once. */
const BODY = JSON.stringify({
  tool: 'read_file',
  arguments: { path: '/srv/app/README.md', encoding: 'utf8' },
  purpose: 'throughput benchmark',
  annotations: { readOnlyHint: true },
});

interface Side {
  // biome-ignore lint/suspicious/noExplicitAny: the two builds are loaded at run time, untyped.
  gw: any;
  dir: string;
  key: string;
}

async function start(buildDir: string, schema: string): Promise<Side> {
  const { loadConfig, addAgent, addUser, startGateway } = await loadBuild(buildDir);
  const dir = mkdtempSync(join(tmpdir(), 'cs-ab-'));
  const cfg = loadConfig({ env: {}, overrides: { dataDir: dir, port: 0, host: '127.0.0.1', ...(PG ? { databaseUrl: PG_URL } : {}) } });
  const config = { ...cfg, policy: { ...cfg.policy, trust_annotations: ['bench-agent'] } };
  const gw = await startGateway(config, { listen: false, logger: pino({ level: 'warn' }, pino.destination(2)), ...(PG ? { schema } : {}) });
  const admin = { type: 'admin', id: 'bench' };
  await addUser(gw.deps, admin, { email: 'owner@bench.test', role: 'reviewer' });
  const agent = await addAgent(gw.deps, admin, { name: 'bench-agent', owner: 'owner@bench.test' });
  return { gw, dir, key: agent.apiKey };
}

/** CPU µs of this process per request, for n requests from C concurrent callers. */
async function round(s: Side, n: number): Promise<number> {
  let next = 0;
  const headers = { authorization: `Bearer ${s.key}`, host: 'localhost' };
  const request = GET
    ? { method: 'GET', url: GET, headers }
    : { method: 'POST', url: '/v1/actions', headers: { ...headers, 'content-type': 'application/json' }, payload: BODY };
  const caller = async () => {
    while (next < n) {
      next += 1;
      const r = await s.gw.app.inject(request);
      if (r.statusCode >= 300) throw new Error(`${r.statusCode} ${r.body}`);
    }
  };
  const c0 = process.cpuUsage();
  await Promise.all(Array.from({ length: C }, caller));
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / n;
}

const [dirA, dirB] = process.argv.slice(2);
if (!dirA || !dirB) {
  console.error('usage: ab-inject.ts <build A> <build B>');
  process.exit(2);
}
const tag = Date.now().toString(36);
const sides = { A: await start(dirA, `ab_a_${tag}`), B: await start(dirB, `ab_b_${tag}`) };
await round(sides.A, 300);
await round(sides.B, 300);
const res: Record<'A' | 'B', number[]> = { A: [], B: [] };
for (let i = 0; i < ROUNDS; i++)
  for (const k of i % 2 ? (['B', 'A'] as const) : (['A', 'B'] as const)) res[k].push(await round(sides[k], N));
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)] ?? Number.NaN;
const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`${PG ? 'PostgreSQL' : 'SQLite'} ${GET ? `GET ${GET}` : 'POST /v1/actions (allowed)'}: process CPU µs/req, inject,`);
console.log(`  ${C} concurrent, ${ROUNDS} alternating rounds of ${N} per build, load average ${load}`);
console.log(`  A ${dirA}: median ${median(res.A).toFixed(1)}`);
console.log(`  B ${dirB}: median ${median(res.B).toFixed(1)}`);
console.log(
  `  B/A: ${(median(res.B) / median(res.A)).toFixed(3)} (medians), ${median(res.B.map((x, i) => x / (res.A[i] as number))).toFixed(3)} (median of round-pair ratios)`,
);
for (const s of Object.values(sides)) {
  await s.gw.close();
  rmSync(s.dir, { recursive: true, force: true });
}
process.exit(0);
