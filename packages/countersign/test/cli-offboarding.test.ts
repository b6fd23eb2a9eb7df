/*
 * Offboarding from the admin CLI, run as a real child process against the database of a real
 * `countersign serve` (SQLite: the CLI writes it from another process, as an operator would).
 * Exit codes as in cli.test.ts: 2 invalid input, 5 not found, 6 conflict.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { childEnv, exits, fetchApi, KEY_LINE, serve, stop } from './cli-serve-helpers.js';
import { runCli } from './helpers.js';
import { SseClient } from './sse-client.js';

describe('offboarding from the countersign CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cs-offboard-'));
  let server: ChildProcess | undefined;
  let url = '';
  const keys = { ada: '', alice: '', bob: '', agent: '' };
  const admin = (...args: string[]) => runCli([...args, '--data', dir], childEnv());
  const api = (method: 'GET' | 'POST', path: string, key: string, body?: unknown) => fetchApi(url, method, path, key, body);

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
