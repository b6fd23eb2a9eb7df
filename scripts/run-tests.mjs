#!/usr/bin/env node
// Runs every *.test.ts under packages/*/test with Node's own test runner (tsx for TypeScript).
// Node 20 has no --test glob support, so the files are listed here.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function find(dir, out = []) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) find(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const filter = process.argv.slice(2);
const files = readdirSync('packages')
  .flatMap((pkg) => {
    try {
      return find(join('packages', pkg, 'test'));
    } catch {
      return [];
    }
  })
  .filter((f) => filter.length === 0 || filter.some((x) => f.includes(x)))
  .sort();
const wantNode22 =
  (filter.length === 0 || filter.some((x) => 'adapters-node22'.includes(x))) && process.env.COUNTERSIGN_SKIP_NODE22 !== '1';
if (files.length === 0 && !wantNode22) {
  console.error('no test files found');
  process.exit(1);
}
// The tests run the CLI and the MCP proxy as their users do, from the built package: build what changed
// first (incremental, about a second when nothing did), so a test never runs yesterday's code.
for (const pkg of ['sdk', 'countersign']) {
  const b = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', `packages/${pkg}/tsconfig.build.json`], {
    stdio: 'inherit',
  });
  if (b.status !== 0) {
    console.error(`building packages/${pkg} failed`);
    process.exit(b.status ?? 1);
  }
}
// The reviewer console's pages are served from its build (packages/console/dist); rebuild it when a source
// file is newer than the build, so the browser tests never drive an old console.
{
  const consoleDir = join('packages', 'console');
  const newest = (dir) => {
    let t = 0;
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const s = statSync(p);
      t = Math.max(t, s.isDirectory() ? newest(p) : s.mtimeMs);
    }
    return t;
  };
  let built = 0;
  try {
    built = statSync(join(consoleDir, 'dist', 'index.html')).mtimeMs;
  } catch {
    // not built yet
  }
  // The console bundles code of the SDK (@countersign/sdk/reveal) too.
  const sources = Math.max(
    newest(join(consoleDir, 'src')),
    newest(join('packages', 'sdk', 'src')),
    statSync(join(consoleDir, 'index.html')).mtimeMs,
  );
  if (sources > built) {
    const b = spawnSync('npm', ['run', 'build', '-w', '@countersign/console'], { stdio: 'inherit' });
    if (b.status !== 0) {
      console.error('building packages/console failed');
      process.exit(b.status ?? 1);
    }
  }
}
// The adapters for frameworks whose current majors need Node 22 (ai 7, Mastra) are tested on Node 22 from the
// npm registry, in their own project (scripts/test-node22-adapters.sh). They run first, on a full run or when a
// filter names them, so the main suite's summary is the last thing printed.
const node22 = wantNode22
  ? spawnSync('bash', ['scripts/test-node22-adapters.sh'], { stdio: 'inherit', env: { ...process.env, COUNTERSIGN_LOG_LEVEL: 'silent' } })
  : null;
if (node22 && node22.status !== 0) console.error('the Node 22 adapter tests failed (scripts/test-node22-adapters.sh)');
if (files.length === 0) process.exit(node22?.status ?? 1);
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=120000', '--test-reporter=spec', ...files],
  { stdio: 'inherit', env: { ...process.env, COUNTERSIGN_LOG_LEVEL: process.env.COUNTERSIGN_LOG_LEVEL ?? 'silent' } },
);
process.exit(node22 && node22.status !== 0 ? node22.status || 1 : (r.status ?? 1));
