/*
 * Admin commands act on the database the server uses and never create one; the serve banner prints the
 * command that reaches it. Run as real child processes, as an operator would.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { firstRunBanner } from '../src/cli/commands/admin-hint.js';
import { childEnv, exits, serve, stop } from './cli-serve-helpers.js';
import { CLI_MAIN, runCli } from './helpers.js';

describe('admin commands and the database the server uses', () => {
  test('an admin command against a data dir with no database refuses, says what to do, and creates nothing', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'cs-nodb-'));
    try {
      const missing = join(parent, 'data');
      // users add waits a few seconds for a starting server first; signing-keys rotate refuses at once.
      for (const args of [
        ['users', 'add', 'ada@example.com', '--role', 'admin'],
        ['signing-keys', 'rotate'],
      ]) {
        const r = exits(await runCli([...args, '--data', missing], childEnv()), 5);
        assert.match(r.stderr, /no Countersign database at .*countersign\.db/);
        assert.match(r.stderr, /same --data DIR, --config FILE or COUNTERSIGN_DATABASE_URL/);
      }
      assert.equal(existsSync(missing), false, 'no data dir, database or keyring was created');
      assert.deepEqual(readdirSync(parent), []);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });

  test('an admin command started together with serve waits for the database serve creates', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-race-'));
    const data = join(dir, 'data');
    const adding = runCli(['users', 'add', 'ada@example.com', '--role', 'admin', '--data', data], childEnv());
    const s = await serve(['--data', data]);
    try {
      const r = exits(await adding, 0);
      const me = await fetch(`${s.url}/v1/me`, { headers: { authorization: `Bearer ${r.stdout.trim()}` } });
      assert.equal(me.status, 200);
    } finally {
      await stop(s.proc);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the start-up banner's command works when pasted in another directory", async () => {
    const home = mkdtempSync(join(tmpdir(), 'cs-banner-'));
    const elsewhere = mkdtempSync(join(tmpdir(), 'cs-elsewhere-'));
    // Started the way people do: a data dir relative to where serve runs, given by the environment.
    const s = await serve([], { cwd: home, env: { COUNTERSIGN_DATA_DIR: 'state' } });
    try {
      const line = s
        .stderr()
        .split('\n')
        .find((l) => l.includes('users add'));
      assert.ok(line, s.stderr());
      const command = line.trim().replace(/^npx countersign /, `${process.execPath} ${CLI_MAIN} `);
      const shell = spawn('sh', ['-c', command], { cwd: elsewhere, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      shell.stdout.setEncoding('utf8').on('data', (x: string) => (out += x));
      shell.stderr.setEncoding('utf8').on('data', (x: string) => (err += x));
      const [code] = (await once(shell, 'close')) as [number];
      assert.equal(code, 0, err);
      const me = await fetch(`${s.url}/v1/me`, { headers: { authorization: `Bearer ${out.trim()}` } });
      assert.equal(me.status, 200, 'the printed key works on this server');
    } finally {
      await stop(s.proc);
      rmSync(home, { recursive: true, force: true });
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  test('the banner refers to a database URL from the environment by name and never prints it', () => {
    const banner = firstRunBanner({
      env: { COUNTERSIGN_DATABASE_URL: 'postgres://cs:s3cret@db.internal/countersign' },
      cwd: '/srv/cs',
      config: 'cs.yaml',
    });
    assert.equal(banner.includes('s3cret'), false);
    assert.match(banner, /with COUNTERSIGN_DATABASE_URL set as it is for this server/);
    assert.match(banner, /npx countersign users add you@example\.com --role admin --config \/srv\/cs\/cs\.yaml\n/);
  });
});
