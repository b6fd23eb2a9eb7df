/*
 * First run as an operator meets it: `countersign serve` on an empty database prints a one-time setup
 * link; opening it makes the first admin, who can then sign in. Real child processes, real HTTP.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { childEnv, exits, serve, stop } from './cli-serve-helpers.js';
import { runCli } from './helpers.js';

const LINK = /(http:\/\/\S+\/setup#token=([A-Za-z0-9_-]{43}))/;
const PASSWORD = 'correct horse battery staple';

async function printedLink(stderr: () => string): Promise<RegExpExecArray | null> {
  for (let i = 0; i < 100; i++) {
    const m = LINK.exec(stderr());
    if (m) return m;
    await new Promise((r) => setTimeout(r, 20));
  }
  return null;
}

async function post(base: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: base, ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, cookies: res.headers.getSetCookie(), body: (await res.json()) as Record<string, unknown> };
}

describe('first run', () => {
  test('serve on an empty database prints a setup link that makes the first admin, and stops printing one once done', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-first-run-'));
    const data = join(dir, 'data');
    let s = await serve(['--data', data]);
    try {
      const link = await printedLink(s.stderr);
      assert.ok(link, s.stderr());
      assert.ok(link[1]?.startsWith(`${s.url}/setup#`), 'the link points at this server');
      const page = await fetch(`${s.url}/setup`);
      assert.equal(page.status, 200);
      const res = await post(s.url, '/v1/auth/setup', { token: link[2], email: 'ada@example.com', password: PASSWORD });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const session = res.cookies.find((c) => c.startsWith('cs_session='))?.split(';')[0];
      assert.ok(session);
      const me = await fetch(`${s.url}/v1/me`, { headers: { cookie: session } });
      const who = (await me.json()) as { email: string; role: string };
      assert.deepEqual([who.email, who.role], ['ada@example.com', 'admin']);
      await stop(s.proc);
      s = await serve(['--data', data]);
      assert.equal(await printedLink(s.stderr), null, 'an admin can sign in now: no link');
      const login = await post(s.url, '/v1/auth/login', { email: 'ada@example.com', password: PASSWORD });
      assert.equal(login.status, 200);
    } finally {
      await stop(s.proc);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('users reset-link prints a one-time link on stdout that lets the person choose a password', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-reset-link-'));
    const data = join(dir, 'data');
    const s = await serve(['--data', data]);
    try {
      exits(await runCli(['users', 'add', 'alice@example.com', '--data', data], childEnv()), 0);
      const r = exits(await runCli(['users', 'reset-link', 'alice@example.com', '--data', data], childEnv()), 0);
      const m = /#token=([A-Za-z0-9_-]{43})\n$/.exec(r.stdout);
      assert.ok(m, r.stdout);
      assert.match(r.stderr, /password reset link for alice@example.com/);
      const res = await post(s.url, '/v1/auth/reset-password', { token: m[1], password: PASSWORD });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal((await post(s.url, '/v1/auth/login', { email: 'alice@example.com', password: PASSWORD })).status, 200);
      exits(await runCli(['users', 'reset-link', 'nobody@example.com', '--data', data], childEnv()), 5);
    } finally {
      await stop(s.proc);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
