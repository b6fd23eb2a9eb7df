/** Shared by the CLI tests that run `countersign serve` and the admin commands as real child processes. */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { CLI_MAIN, type CliResult, REPO_ROOT } from './helpers.js';

export const KEY_LINE = /^cs_[0-9a-f]{12}_[A-Za-z0-9_-]{43}\n$/;

export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('COUNTERSIGN_')) env[k] = v;
  return { ...env, COUNTERSIGN_LOG_LEVEL: 'warn', ...extra };
}

export function exits(r: CliResult, code: number): CliResult {
  assert.equal(r.code, code, `expected exit ${code}, got ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

/** Starts `countersign serve` and resolves with its URL and everything it wrote to stderr so far. */
export async function serve(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}) {
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

export async function stop(proc: ChildProcess | undefined): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = once(proc, 'exit');
  proc.kill('SIGTERM');
  await exited;
}

/** A JSON request to a gateway over real HTTP, as the CLI's users and agents make them. */
export async function fetchApi(base: string, method: 'GET' | 'POST', path: string, key: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies; the assertions check their shape
  return { status: res.status, body: (await res.json()) as any };
}
