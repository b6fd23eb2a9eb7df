/*
 * The countersign CLI, run as a real child process against a real `countersign serve`.
 *
 * Exit codes (src/cli/exit-codes.ts; one per domain error code), as exercised below:
 *   0  success
 *   2  invalid input: unknown role, --args that is not valid JSON      (invalid_request, invalid_json, …;
 *      commander's own usage errors also exit 2)
 *   3  unauthenticated: COUNTERSIGN_KEY unknown or revoked           (unauthenticated)
 *   4  not allowed: the agent's owner approving its action            (forbidden, self_approval)
 *   5  not found: unknown agent owner, key prefix or action           (not_found)
 *   6  conflict: duplicate user, key already revoked, action already decided (conflict, idempotency_conflict)
 *   7  the gateway cannot be reached                                  (unavailable)
 *   1  internal error (not exercised: nothing here should produce one)
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fetchApi } from './cli-serve-helpers.js';
import { CLI_MAIN, type CliResult, REPO_ROOT, runCli } from './helpers.js';

const KEY_LINE = /^cs_[0-9a-f]{12}_[A-Za-z0-9_-]{43}\n$/;
/** What safeText escapes; a terminal would act on any of these. Newlines are the only control allowed. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding raw control characters is the point
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/** The parent's environment without any COUNTERSIGN_* setting, plus `extra`. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('COUNTERSIGN_')) env[k] = v;
  return { ...env, COUNTERSIGN_LOG_LEVEL: 'warn', ...extra };
}

async function run(args: string[], extraEnv: Record<string, string> = {}): Promise<CliResult> {
  return runCli(args, childEnv(extraEnv));
}

/** Asserts the exit code, showing the output when it differs. */
function exits(r: CliResult, code: number): CliResult {
  assert.equal(r.code, code, `expected exit ${code}, got ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

/** A port nothing listens on: bound by the OS, then released. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address() as { port: number };
  srv.close();
  await once(srv, 'close');
  return port;
}

describe('the countersign CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cs-cli-'));
  let server: ChildProcess | undefined;
  let url = '';
  const keys = { alice: '', bob: '', agent: '' };

  const admin = (...args: string[]) => run([...args, '--data', dir]);
  /** A people-facing command with COUNTERSIGN_URL and COUNTERSIGN_KEY set. */
  const as = (key: string, ...args: string[]) => run(args, { COUNTERSIGN_URL: url, COUNTERSIGN_KEY: key });
  const api = (method: 'GET' | 'POST', path: string, key: string, body?: unknown) => fetchApi(url, method, path, key, body);
  const propose = async (body: Record<string, unknown> = {}) => {
    const r = await api('POST', '/v1/actions', keys.agent, { tool: 'deploy', arguments: { env: 'production' }, ...body });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body as { id: string };
  };

  before(async () => {
    const proc = spawn(process.execPath, [CLI_MAIN, 'serve', '--port', '0', '--data', dir], {
      cwd: REPO_ROOT,
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server = proc;
    let stderr = '';
    proc.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    url = await new Promise<string>((resolve, reject) => {
      let out = '';
      proc.stdout.setEncoding('utf8').on('data', (s: string) => {
        out += s;
        const m = /^countersign listening on (http:\/\/\S+)$/m.exec(out);
        if (m?.[1]) resolve(m[1]);
      });
      proc.once('exit', (code) => reject(new Error(`serve exited (${code}):\n${stderr}`)));
    });
    keys.bob = exits(await admin('users', 'add', 'bob@example.com'), 0).stdout.trim();
  });

  after(async () => {
    if (server && server.exitCode === null && server.signalCode === null) {
      const exited = once(server, 'exit');
      server.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  test('users add prints the new key on stdout and nothing else; the key works at once', async () => {
    const r = exits(await admin('users', 'add', 'alice@example.com', '--role', 'reviewer', '--group', 'sre'), 0);
    assert.match(r.stdout, KEY_LINE);
    assert.match(r.stderr, /alice@example\.com \(reviewer, groups: sre\)/);
    keys.alice = r.stdout.trim();
    const me = await api('GET', '/v1/me', keys.alice);
    assert.equal(me.status, 200);
    assert.deepEqual([me.body.type, me.body.email, me.body.role, me.body.groups], ['user', 'alice@example.com', 'reviewer', ['sre']]);
  });

  test('agents add prints the agent’s key on stdout and nothing else', async () => {
    const r = exits(await admin('agents', 'add', 'deployer', '--owner', 'bob@example.com'), 0);
    assert.match(r.stdout, KEY_LINE);
    assert.match(r.stderr, /deployer owned by bob@example\.com/);
    keys.agent = r.stdout.trim();
    const me = await api('GET', '/v1/me', keys.agent);
    assert.deepEqual([me.body.type, me.body.name], ['agent', 'deployer']);
  });

  test('bad admin input fails with its exit code, a clear message on stderr and nothing on stdout', async () => {
    const [unknownOwner, duplicate, badRole] = await Promise.all([
      admin('agents', 'add', 'orphan', '--owner', 'nobody@example.com'),
      admin('users', 'add', 'ALICE@example.com'),
      admin('users', 'add', 'eve@example.com', '--role', 'superuser'),
    ]);
    exits(unknownOwner, 5);
    assert.match(unknownOwner.stderr, /no user with email nobody@example\.com/);
    exits(duplicate, 6);
    assert.match(duplicate.stderr, /a user with email alice@example\.com already exists/);
    exits(badRole, 2);
    assert.match(badRole.stderr, /role/);
    for (const r of [unknownOwner, duplicate, badRole]) assert.equal(r.stdout, '');
  });

  test('keys revoke cuts a key off on its next request; revoking it again exits 6', async () => {
    const dave = exits(await admin('users', 'add', 'dave@example.com'), 0).stdout.trim();
    assert.equal((await api('GET', '/v1/me', dave)).status, 200);
    const prefix = dave.slice(0, 'cs_'.length + 12);
    const r = exits(await admin('keys', 'revoke', prefix), 0);
    assert.match(r.stdout, new RegExp(`^revoked ${prefix} \\(user `));
    const after = await api('GET', '/v1/me', dave);
    assert.equal(after.status, 401);
    assert.equal(after.body.error.code, 'unauthenticated');
    const [again, unknown, asCli] = await Promise.all([
      admin('keys', 'revoke', prefix),
      admin('keys', 'revoke', 'cs_000000000000'),
      as(dave, 'ls'),
    ]);
    assert.match(exits(again, 6).stderr, /already revoked/);
    exits(unknown, 5);
    exits(asCli, 3);
  });

  test('ls lists actions, and ls --status pending only the pending ones', async () => {
    const a = await propose();
    const b = await propose();
    const decided = await propose();
    assert.equal((await api('POST', `/v1/actions/${decided.id}/reviews`, keys.alice, { decision: 'deny', reason: 'no' })).status, 200);
    const [all, pending] = await Promise.all([as(keys.alice, 'ls'), as(keys.alice, 'ls', '--status', 'pending')]);
    exits(all, 0);
    assert.match(all.stdout, /^ID\s+STATUS\s+AGENT\s+TOOL\s+CREATED$/m);
    for (const id of [a.id, b.id]) assert.match(all.stdout, new RegExp(`^${id}\\s+pending\\s+deployer\\s+deploy\\s`, 'm'));
    assert.match(all.stdout, new RegExp(`^${decided.id}\\s+denied\\s`, 'm'));
    exits(pending, 0);
    assert.ok(pending.stdout.includes(a.id) && pending.stdout.includes(b.id));
    assert.ok(!pending.stdout.includes(decided.id), 'the denied action is not listed as pending');
    assert.doesNotMatch(pending.stdout, /denied/);
  });

  test('show prints one action: status, agent, tool and arguments', async () => {
    const a = await propose({ arguments: { env: 'production', replicas: 3 }, purpose: 'roll out v2' });
    const r = exits(await as(keys.alice, 'show', a.id), 0);
    assert.match(r.stdout, new RegExp(`^id:\\s+${a.id}$`, 'm'));
    assert.match(r.stdout, /^status:\s+pending$/m);
    assert.match(r.stdout, /^agent:\s+deployer$/m);
    assert.match(r.stdout, /^purpose:\s+roll out v2$/m);
    assert.match(r.stdout, /^workflow:\s+default, stage review \(1 of 1\)$/m);
    assert.match(r.stdout, /^approvals:\s+0 of 1; needs role reviewer$/m);
    assert.match(r.stdout, /"replicas": 3/);
  });

  test('approve --args approves with the edited arguments and keeps the proposed ones', async () => {
    const a = await propose({ arguments: { a: 2, b: 'x' } });
    const r = exits(await as(keys.alice, 'approve', a.id, '--args', '{"a":1}'), 0);
    assert.equal(r.stdout, `approved ${a.id} with edited arguments\n`);
    const now = (await api('GET', `/v1/actions/${a.id}`, keys.alice)).body;
    assert.equal(now.status, 'approved');
    assert.deepEqual(now.arguments, { a: 1 });
    assert.deepEqual(now.original_arguments, { a: 2, b: 'x' });
    assert.equal(now.decided_by.label, 'alice@example.com');
  });

  test('deny --reason denies and hands the reason back to the agent', async () => {
    const a = await propose();
    const r = exits(await as(keys.alice, 'deny', a.id, '--reason', 'change freeze until Monday'), 0);
    assert.equal(r.stdout, `denied ${a.id}\n`);
    const seen = (await api('GET', `/v1/actions/${a.id}`, keys.agent)).body;
    assert.equal(seen.status, 'denied');
    assert.equal(seen.reason, 'change freeze until Monday');
  });

  test('review commands exit 4 on self-approval, 6 when already decided, 3 on a bad key, 7 when the server is down, 2 on bad --args', async () => {
    const open = await propose();
    const done = await propose();
    exits(await as(keys.alice, 'approve', done.id), 0);
    const down = `http://127.0.0.1:${await closedPort()}`;
    const [self, decided, unknownKey, unreachable, notJson] = await Promise.all([
      as(keys.bob, 'approve', open.id),
      as(keys.alice, 'deny', done.id, '--reason', 'too late'),
      as(`cs_000000000000_${'A'.repeat(43)}`, 'ls'),
      run(['approve', open.id], { COUNTERSIGN_URL: down, COUNTERSIGN_KEY: keys.alice }),
      as(keys.alice, 'approve', open.id, '--args', '{a:1}'),
    ]);
    assert.match(exits(self, 4).stderr, /self_approval/);
    assert.match(exits(decided, 6).stderr, /is approved/);
    exits(unknownKey, 3);
    assert.match(exits(unreachable, 7).stderr, /cannot reach the gateway/);
    assert.match(exits(notJson, 2).stderr, /--args is not valid JSON/);
    for (const r of [self, decided, unknownKey, unreachable, notJson]) assert.equal(r.stdout, '');
    const still = (await api('GET', `/v1/actions/${open.id}`, keys.alice)).body;
    assert.equal(still.status, 'pending', 'none of the failed commands decided anything');
  });

  test('show and ls escape terminal control characters an agent put in its tool, purpose or arguments', async () => {
    const a = await propose({
      tool: 'deploy\u202eexe.',
      purpose: '\u001b[2J\u001b]0;pwned\u0007all clear\rfake line\nstatus:      approved',
      arguments: { '\u001b[31mkey': 'csi \u009b2J, bidi \u202e, nel \u0085', plain: 'ok' },
    });
    const show = exits(await as(keys.alice, 'show', a.id), 0);
    const ls = exits(await as(keys.alice, 'ls', '--status', 'pending'), 0);
    for (const r of [show, ls]) {
      assert.doesNotMatch(r.stdout, RAW_CONTROL);
      assert.ok(!r.stdout.includes('\u001b'), 'no raw ESC reaches the terminal');
    }
    assert.deepEqual(
      show.stdout.split('\n').filter((l) => l.startsWith('status:')),
      ['status:      pending'],
      'a newline in the purpose cannot forge a field line',
    );
    assert.ok(show.stdout.includes('fake line\\nstatus:      approved'), 'the line break is shown as text');
    assert.ok(show.stdout.includes('\\u001b[2J'), 'the escape is shown as text');
    assert.ok(show.stdout.includes('\\u009b2J'));
    assert.ok(show.stdout.includes('deploy\\u202eexe.'));
    assert.ok(ls.stdout.includes('deploy\\u202eexe.'));
  });

  test('audit export --out writes one JSON line per entry with seq 1..N, and audit verify agrees', async () => {
    const file = join(dir, 'audit.jsonl');
    const r = exits(await admin('audit', 'export', '--out', file), 0);
    const lines = readFileSync(file, 'utf8').split('\n');
    assert.equal(lines.pop(), '', 'the file ends with a newline');
    const entries = lines.map((l) => JSON.parse(l) as { seq: number; hash: string; prev_hash: string; event: string });
    assert.ok(entries.length > 20);
    assert.equal(r.stdout, `wrote ${entries.length} entries to ${file}\n`);
    assert.deepEqual(
      entries.map((e) => e.seq),
      entries.map((_, i) => i + 1),
    );
    entries.forEach((e, i) => {
      if (i > 0) assert.equal(e.prev_hash, entries[i - 1]?.hash, `entry ${e.seq} links to its predecessor`);
    });
    assert.deepEqual(
      entries
        .filter((e) => e.event !== 'policy.activated' && e.event !== 'signing_key.created')
        .slice(0, 2)
        .map((e) => e.event),
      ['user.created', 'key.created'],
    );
    assert.equal(entries.filter((e) => e.event === 'policy.activated').length, 1, 'restarts with the same policy record it once');
    const verify = exits(await admin('audit', 'verify'), 0);
    assert.match(verify.stdout, new RegExp(`^ok: ${entries.length} entries verified; .*head ${entries.at(-1)?.hash}\n$`));
  });
});
