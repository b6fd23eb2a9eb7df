/*
 * Offboarding from the admin CLI, run as a real child process against the database of a real
 * `countersign serve` (SQLite: the CLI writes it from another process, as an operator would).
 * Exit codes as in cli.test.ts: 2 invalid input, 5 not found, 6 conflict.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { firstRunBanner } from '../src/cli/commands/admin-hint.js';
import { CLI_MAIN, type CliResult, REPO_ROOT, runCli } from './helpers.js';
import { SseClient } from './sse-client.js';

const KEY_LINE = /^cs_[0-9a-f]{12}_[A-Za-z0-9_-]{43}\n$/;

function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('COUNTERSIGN_')) env[k] = v;
  return { ...env, COUNTERSIGN_LOG_LEVEL: 'warn', ...extra };
}

function exits(r: CliResult, code: number): CliResult {
  assert.equal(r.code, code, `expected exit ${code}, got ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

/** Starts `countersign serve` and resolves with its URL and everything it wrote to stderr so far. */
async function serve(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}) {
  const proc = spawn(process.execPath, [CLI_MAIN, 'serve', '--port', '0', ...args], {
    cwd: opts.cwd ?? REPO_ROOT,
    env: childEnv(opts.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const m = /^countersign listening on (http:\/\/\S+)$/m.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    proc.once('exit', (code) => reject(new Error(`serve exited (${code}):\n${stderr}`)));
  });
  // The banner is written right after the listening line.
  for (let i = 0; i < 100 && !stderr.includes('\n\n'); i++) await new Promise((r) => setTimeout(r, 20));
  return { proc, url, stderr: () => stderr };
}

async function stop(proc: ChildProcess | undefined): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = once(proc, 'exit');
  proc.kill('SIGTERM');
  await exited;
}

describe('offboarding from the countersign CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cs-offboard-'));
  let server: ChildProcess | undefined;
  let url = '';
  const keys = { ada: '', alice: '', bob: '', agent: '' };
  const admin = (...args: string[]) => runCli([...args, '--data', dir], childEnv());
  const api = async (method: 'GET' | 'POST', path: string, key: string, body?: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    // biome-ignore lint/suspicious/noExplicitAny: JSON bodies; the assertions check their shape
    return { status: res.status, body: (await res.json()) as any };
  };

  before(async () => {
    const s = await serve(['--data', dir]);
    server = s.proc;
    url = s.url;
    keys.ada = exits(await admin('users', 'add', 'ada@example.com', '--role', 'admin'), 0).stdout.trim();
    keys.alice = exits(await admin('users', 'add', 'alice@example.com', '--group', 'sre'), 0).stdout.trim();
    keys.bob = exits(await admin('users', 'add', 'bob@example.com'), 0).stdout.trim();
    keys.agent = exits(await admin('agents', 'add', 'deployer', '--owner', 'bob@example.com'), 0).stdout.trim();
  });

  after(async () => {
    await stop(server);
    rmSync(dir, { recursive: true, force: true });
  });

  test('users ls lists people with role, groups, usable keys and status; --json gives the same as data', async () => {
    const r = exits(await admin('users', 'ls'), 0);
    assert.match(r.stdout, /^EMAIL\s+ROLE\s+GROUPS\s+KEYS\s+STATUS\s+CREATED\n/);
    assert.match(r.stdout, /alice@example\.com\s+reviewer\s+sre\s+1\s+active/);
    const json = JSON.parse(exits(await admin('users', 'ls', '--json'), 0).stdout);
    assert.deepEqual(
      json.map((u: { email: string; role: string }) => [u.email, u.role]),
      [
        ['ada@example.com', 'admin'],
        ['alice@example.com', 'reviewer'],
        ['bob@example.com', 'reviewer'],
      ],
    );
  });

  test('users set-role and set-groups change a person at once and are audited; bad input and unknown people are refused', async () => {
    assert.match(exits(await admin('users', 'set-role', 'alice@example.com', 'viewer'), 0).stdout, /reviewer -> viewer/);
    assert.equal((await api('GET', '/v1/me', keys.alice)).body.role, 'viewer');
    exits(await admin('users', 'set-role', 'alice@example.com', 'viewer'), 6);
    exits(await admin('users', 'set-role', 'alice@example.com', 'superuser'), 2);
    exits(await admin('users', 'set-role', 'nobody@example.com', 'viewer'), 5);
    assert.match(exits(await admin('users', 'set-groups', 'alice@example.com', 'sre', 'oncall'), 0).stdout, /sre -> oncall,sre/);
    assert.deepEqual((await api('GET', '/v1/me', keys.alice)).body.groups, ['oncall', 'sre']);
    exits(await admin('users', 'set-groups', 'alice@example.com', 'not a group!'), 2);
    exits(await admin('users', 'set-role', 'alice@example.com', 'reviewer'), 0);
    const audit = exits(await runCli(['audit', 'export', '--data', dir], childEnv()), 0).stdout;
    assert.match(audit, /user\.role_changed/);
    assert.match(audit, /user\.groups_changed/);
  });

  test("keys issue prints a new key once for an existing person or agent, keys ls lists prefixes only, and revoke warns on a person's last key", async () => {
    const issued = exits(await admin('keys', 'issue', 'bob@example.com', '--label', 'laptop'), 0);
    assert.match(issued.stdout, KEY_LINE);
    assert.equal((await api('GET', '/v1/me', issued.stdout.trim())).body.email, 'bob@example.com');
    const forAgent = exits(await admin('keys', 'issue', 'deployer'), 0);
    assert.equal((await api('GET', '/v1/me', forAgent.stdout.trim())).body.name, 'deployer');
    exits(await admin('keys', 'issue', 'nobody@example.com'), 5);
    exits(await admin('keys', 'issue', 'no-such-agent'), 5);
    const ls = exits(await admin('keys', 'ls', '--for', 'bob@example.com'), 0).stdout;
    assert.match(ls, /^PREFIX\s+TYPE\s+FOR\s+STATUS\s+CREATED\s+LABEL\n/);
    assert.equal(ls.trim().split('\n').length, 3, 'the header and bob’s two keys');
    assert.match(ls, /laptop/);
    assert.equal(ls.includes(issued.stdout.trim()), false, 'never the secret');
    const revoked = exits(await admin('keys', 'revoke', issued.stdout.trim().slice(0, 15)), 0);
    assert.equal(revoked.stderr.includes('last key'), false, 'bob still has his first key');
    const json = JSON.parse(exits(await admin('keys', 'ls', '--for', 'bob@example.com', '--json'), 0).stdout);
    assert.deepEqual(
      json.map((k: { revoked_at: string | null }) => k.revoked_at === null),
      [true, false],
    );
    // A person whose only key goes while a grant of theirs still approves: the operator is told.
    const gina = exits(await admin('users', 'add', 'gina@example.com'), 0).stdout.trim();
    const a = await api('POST', '/v1/actions', keys.agent, { tool: 'restart', arguments: { svc: 'web' } });
    assert.equal((await api('POST', `/v1/actions/${a.body.id}/reviews`, gina, { decision: 'approve', grant: {} })).status, 200);
    const last = exits(await admin('keys', 'revoke', gina.slice(0, 15)), 0);
    assert.match(last.stderr, /warning: that was their last key, but the 1 live grant\(s\) they created still approve/);
    assert.match(last.stderr, /countersign users disable <email>/);
  });

  test("revoking a key from the CLI ends that key's open stream on the running gateway; nothing created after reaches it", async () => {
    const viewer = exits(await admin('users', 'add', 'victor@example.com', '--role', 'viewer'), 0).stdout.trim();
    const s = await SseClient.open(url, viewer);
    try {
      const first = await api('POST', '/v1/actions', keys.agent, { tool: 'deploy', arguments: { n: 1 } });
      await s.waitFor('action.created', first.body.id);
      exits(await admin('keys', 'revoke', viewer.slice(0, 15)), 0);
      const later = await api('POST', '/v1/actions', keys.agent, { tool: 'deploy', arguments: { n: 2 } });
      // Another process revoked it: the gateway sees the epoch at its next check (every second), well before the 15 s keep-alive.
      assert.ok(await s.endsWithin(10_000), 'the stream was ended by the server');
      assert.equal(
        s.events.some((e) => e.data.action_id === later.body.id),
        false,
      );
    } finally {
      s.close();
    }
  });

  test('users disable offboards a person: keys refused, streams ended, audited; enable undoes it; both refuse a repeat', async () => {
    const s = await SseClient.open(url, keys.alice);
    try {
      const r = exits(await admin('users', 'disable', 'alice@example.com'), 0);
      assert.match(r.stdout, /^disabled alice@example\.com/);
      assert.ok(await s.endsWithin(10_000));
    } finally {
      s.close();
    }
    assert.equal((await api('GET', '/v1/me', keys.alice)).status, 401);
    exits(await admin('users', 'disable', 'alice@example.com'), 6);
    exits(await admin('users', 'disable', 'nobody@example.com'), 5);
    assert.match(exits(await admin('users', 'ls'), 0).stdout, /alice@example\.com.*disabled/);
    exits(await admin('users', 'enable', 'alice@example.com'), 0);
    assert.equal((await api('GET', '/v1/me', keys.alice)).status, 200);
    exits(await admin('users', 'enable', 'alice@example.com'), 6);
    const audit = exits(await runCli(['audit', 'export', '--data', dir], childEnv()), 0).stdout;
    assert.match(audit, /user\.disabled/);
    assert.match(audit, /user\.enabled/);
  });

  test('agents disable cancels its pending actions with the reason; agents ls shows it; enable undoes it', async () => {
    const pending = await api('POST', '/v1/actions', keys.agent, { tool: 'deploy', arguments: { n: 3 } });
    assert.equal(pending.body.status, 'pending');
    const r = exits(await admin('agents', 'disable', 'deployer', '--reason', 'laptop stolen'), 0);
    assert.match(r.stdout, /disabled agent deployer; cancelled \d+ pending action\(s\)/);
    const seen = await api('GET', `/v1/actions/${pending.body.id}`, keys.ada);
    assert.deepEqual([seen.body.status, seen.body.reason], ['cancelled', 'laptop stolen']);
    assert.equal((await api('GET', '/v1/me', keys.agent)).status, 401);
    assert.match(exits(await admin('agents', 'ls'), 0).stdout, /deployer\s+bob@example\.com\s+\d+\s+disabled/);
    exits(await admin('agents', 'disable', 'deployer'), 6);
    exits(await admin('agents', 'disable', 'nobody'), 5);
    exits(await admin('agents', 'enable', 'deployer'), 0);
    exits(await admin('agents', 'enable', 'deployer'), 6);
    assert.equal((await api('GET', '/v1/me', keys.agent)).status, 200);
    assert.equal(JSON.parse(exits(await admin('agents', 'ls', '--json'), 0).stdout)[0].disabled, false);
  });
});

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
