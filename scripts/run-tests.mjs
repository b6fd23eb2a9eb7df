#!/usr/bin/env node
// Runs every *.test.ts under packages/*/test with Node's own test runner, on the tests compiled to plain
// JavaScript by scripts/build-tests.mjs (see there why not under tsx). Node 20 has no --test glob support,
// so the files are listed here.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildTests } from './build-tests.mjs';

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
// npm registry, in their own project (scripts/test-node22-adapters.sh), on a full run or when a filter names
// them. They run beside the main suite, not before it: most of their two minutes is npm fetching Node 22 and
// the frameworks, time in which the main suite keeps both cores busy. Their output is held and printed when
// both are done, followed by the main suite's summary again, so a run ends with both results.
const node22 = wantNode22
  ? run('bash', ['scripts/test-node22-adapters.sh'], { hold: true, env: { ...process.env, COUNTERSIGN_LOG_LEVEL: 'silent' } })
  : null;
let main = null;
let mirror = null;
if (files.length > 0) {
  // Each run compiles into a directory of its own (two runs in one checkout must not delete each other's),
  // removed when it ends; one left by a run that was killed is removed by the next.
  const buildRoot = resolve('.test-build');
  mkdirSync(buildRoot, { recursive: true });
  for (const name of readdirSync(buildRoot)) {
    const run = /^run-(\d+)$/.exec(name);
    if (run && !alive(Number(run[1]))) rmSync(join(buildRoot, name), { recursive: true, force: true });
  }
  mirror = await buildTests(resolve('.'), join(buildRoot, `run-${process.pid}`));
  const compiled = files.map((f) => join(mirror, f.replace(/\.tsx?$/, '.js')));
  main = run(
    process.execPath,
    ['--enable-source-maps', '--test', '--test-concurrency=2', '--test-timeout=120000', '--test-reporter=spec', ...compiled],
    { hold: false, env: { ...process.env, COUNTERSIGN_LOG_LEVEL: process.env.COUNTERSIGN_LOG_LEVEL ?? 'silent' } },
  );
}
const [n22, m] = await Promise.all([node22, main]);
if (mirror) rmSync(mirror, { recursive: true, force: true });
if (n22) {
  process.stdout.write(`\n${n22.output}`);
  if (n22.status !== 0) console.error('the Node 22 adapter tests failed (scripts/test-node22-adapters.sh)');
  if (m) process.stdout.write(`\nthe main suite, again:\n${m.tail}\n`);
}
process.exit(n22 && n22.status !== 0 ? n22.status || 1 : m ? (m.status ?? 1) : 0);

/**
 * Runs a command. `hold` keeps its output (both streams) to print later; otherwise it streams through and the
 * summary at its end (the lines from the first "ℹ tests") is kept to repeat.
 */
function run(command, args, { hold, env }) {
  return new Promise((done) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let recent = '';
    const take = (stream, to) =>
      child[stream].setEncoding('utf8').on('data', (s) => {
        if (hold) output += s;
        else {
          to.write(s);
          if (stream === 'stdout') recent = (recent + s).slice(-8192);
        }
      });
    take('stdout', process.stdout);
    take('stderr', process.stderr);
    child.on('close', (status) => {
      const at = recent.lastIndexOf('ℹ tests');
      done({ status, output, tail: at >= 0 ? recent.slice(at).trimEnd() : '' });
    });
  });
}

function alive(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
