/*
 * What a fresh clone's `npm install && npx countersign serve` depends on, checked without a fresh clone
 * (.ci/quick-start runs the real thing on one). npm links a workspace's bins from the path the lock
 * records, before the root postinstall builds dist/, and skips a bin whose file does not exist yet.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import semver from 'semver';
import { REPO_ROOT } from './helpers.js';

const json = (path: string) => JSON.parse(readFileSync(join(REPO_ROOT, path), 'utf8'));
const rootPackage = json('package.json');
const lock = json('package-lock.json');
const WORKSPACES = ['packages/console', 'packages/countersign', 'packages/sdk'];

test('every bin of every workspace is a file in the repository, not a build output, and executable', () => {
  for (const ws of WORKSPACES) {
    const bins = json(`${ws}/package.json`).bin ?? {};
    for (const [name, path] of Object.entries<string>(bins)) {
      assert.ok(!path.startsWith('dist/') && !path.startsWith('./dist/'), `${ws} bin ${name} points into dist/: ${path}`);
      const file = join(REPO_ROOT, ws, path);
      assert.ok(existsSync(file), `${ws} bin ${name}: ${path} is missing`);
      assert.ok((statSync(file).mode & 0o111) !== 0, `${ws} bin ${name}: ${path} is not executable`);
    }
  }
});

test('the lock records the same bins and dependencies as each workspace declares (npm installs from the lock)', () => {
  for (const ws of WORKSPACES) {
    const declared = json(`${ws}/package.json`);
    const locked = lock.packages[ws];
    assert.deepEqual(locked.bin ?? {}, declared.bin ?? {}, `${ws}: bin`);
    for (const field of ['dependencies', 'devDependencies', 'peerDependencies']) {
      assert.deepEqual(locked[field] ?? {}, declared[field] ?? {}, `${ws}: ${field}`);
    }
  }
  for (const field of ['dependencies', 'devDependencies']) {
    assert.deepEqual(lock.packages[''][field] ?? {}, rootPackage[field] ?? {}, `root: ${field}`);
  }
});

test('every installed package supports the oldest Node.js the README claims, so the install prints no EBADENGINE', () => {
  const claimed = /Node\.js (\d+\.\d+)\+/.exec(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8'))?.[1];
  assert.ok(claimed, 'the README names the oldest supported Node.js as "Node.js X.Y+"');
  const oldest = `${claimed}.0`;
  assert.ok(semver.satisfies(oldest, rootPackage.engines.node), `package.json engines (${rootPackage.engines.node}) allow ${oldest}`);
  const unsupported: string[] = [];
  for (const [path, entry] of Object.entries<{ version?: string; engines?: { node?: string } | string[]; optional?: boolean }>(
    lock.packages,
  )) {
    const range = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
    if (path === '' || range === undefined) continue;
    // Platform packages for other systems are never installed here; they still must not need a newer Node.
    if (!semver.satisfies(oldest, range, { includePrerelease: true })) unsupported.push(`${path}@${entry.version} wants node ${range}`);
  }
  assert.deepEqual(unsupported, [], `needs a newer Node.js than ${oldest}`);
});

test('the installed tree matches the lock: no package the lock names is missing from node_modules', () => {
  const missing: string[] = [];
  for (const [path, entry] of Object.entries<{ optional?: boolean; link?: boolean }>(lock.packages)) {
    if (!path.startsWith('node_modules/') || entry.optional) continue;
    if (!existsSync(join(REPO_ROOT, path, 'package.json'))) missing.push(path);
  }
  // npm nests a workspace's dependency under the workspace when the root holds another major of it (or of a
  // dependency of it): @slack/socket-mode needs undici 7 and eventemitter3 5 where the SDK's frameworks hold 6
  // and 4. That is fine for what only that workspace imports. A nested copy of what the root or another
  // workspace declares would be hidden from it (and from examples/), and one the root holds in the same
  // version is a needless duplicate: both are refused.
  const declared = (dir: string) => {
    const pkg = json(join(dir, 'package.json'));
    return new Set(Object.keys({ ...pkg.dependencies, ...pkg.devDependencies, ...pkg.peerDependencies }));
  };
  const nested = WORKSPACES.flatMap((ws) => {
    const dir = join(REPO_ROOT, ws, 'node_modules');
    if (!existsSync(dir)) return [];
    const elsewhere = ['.', ...WORKSPACES.filter((w) => w !== ws)].map(declared);
    const names = readdirSync(dir)
      // .bin, and tools' caches (Vite keeps .vite and .vite-temp here): a package name never starts with a dot.
      .filter((n) => !n.startsWith('.'))
      .flatMap((n) => (n.startsWith('@') ? readdirSync(join(dir, n)).map((m) => `${n}/${m}`) : [n]));
    return names
      .filter((name) => {
        const version = json(join(ws, 'node_modules', name, 'package.json')).version;
        const root = join('node_modules', name, 'package.json');
        const sameAtRoot = existsSync(join(REPO_ROOT, root)) && json(root).version === version;
        return sameAtRoot || elsewhere.some((d) => d.has(name));
      })
      .map((name) => `${ws}/node_modules/${name}`);
  });
  assert.deepEqual(missing, []);
  assert.deepEqual(nested, [], 'workspace dependencies are hoisted to the root node_modules unless a version conflict nests them');
});
