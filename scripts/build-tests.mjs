// Compiles the TypeScript that the tests load (packages/*/src, packages/*/test, examples/) to plain ESM in a
// mirror tree, so that the test processes run without a loader hook. Under `--import tsx` every module a test
// process loads (node_modules included) passes through tsx's resolve and load hooks on a separate thread:
// about a second of CPU per test file, measured at 2.1 s against 1.0 s to import the gateway; over ~170
// files on two cores that was two minutes of the suite. esbuild is what tsx transforms with, file by file
// (no bundling, isolated modules), so the code that runs is the code tsx would have run.
//
// The mirror keeps the repository's relative layout (packages/<pkg>/{src,test}), so relative imports, also
// across packages, resolve inside it; each package's own node_modules is linked in, so a dependency a
// package nests (a version conflict) resolves as it does from the source tree. Tests that need the source
// tree itself (the CLI's build, fixtures run as child processes) find it through REPO_ROOT in
// packages/countersign/test/helpers.ts, which looks for the repository root instead of counting '..'.
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { build } from 'esbuild';

const SOURCE_DIRS = ['src', 'test'];

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

/**
 * Builds the mirror at `outRoot` (removed first) and returns it. `root` is the repository root.
 * TypeScript files become .js beside each other; every other file (fixtures, styles) is copied as it is.
 */
export async function buildTests(root, outRoot) {
  rmSync(outRoot, { recursive: true, force: true });
  const scripts = [];
  const others = [];
  // The SDK's tests run the examples' own code (examples/harness, examples/claude-agent-sdk).
  for (const file of walk(join(root, 'examples'), [])) {
    if (/\.tsx?$/.test(file) && !file.endsWith('.d.ts')) scripts.push(file);
    else others.push(file);
  }
  for (const pkg of readdirSync(join(root, 'packages'))) {
    for (const sub of SOURCE_DIRS) {
      const dir = join(root, 'packages', pkg, sub);
      if (!existsSync(dir)) continue;
      for (const file of walk(dir, [])) {
        if (/\.tsx?$/.test(file) && !file.endsWith('.d.ts')) scripts.push(file);
        else others.push(file);
      }
    }
    const modules = join(root, 'packages', pkg, 'node_modules');
    if (existsSync(modules)) {
      mkdirSync(join(outRoot, 'packages', pkg), { recursive: true });
      symlinkSync(modules, join(outRoot, 'packages', pkg, 'node_modules'), 'dir');
    }
  }
  await build({
    entryPoints: scripts,
    outdir: outRoot,
    outbase: root,
    bundle: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'inline',
    logLevel: 'warning',
  });
  for (const file of others) {
    const to = join(outRoot, relative(root, file));
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(file, to);
  }
  return outRoot;
}
