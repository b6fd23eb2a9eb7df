/**
 * The crash test's tools: `countersign serve` as a child process that can be SIGKILLed, plain JSON over
 * real HTTP, the long-poll waiter count from /metrics, and a minimal EventSource.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import type { Answer } from './fault-ledger.js';
import { CLI_MAIN, type CliResult, REPO_ROOT, runCli } from './helpers.js';

/** The parent's environment without any COUNTERSIGN_* setting, plus `extra`. */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('COUNTERSIGN_')) env[k] = v;
  return { ...env, COUNTERSIGN_LOG_LEVEL: 'warn', ...extra };
}

export async function cli(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return runCli(args, env);
}

export interface Server {
  url: string;
  proc: ChildProcess;
  stderr(): string;
}

/** Starts `countersign serve --port 0` and reads the address from its "listening on" stdout line. */
export async function serve(data: string, env: NodeJS.ProcessEnv): Promise<Server> {
  const proc = spawn(process.execPath, [CLI_MAIN, 'serve', '--port', '0', '--data', data], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const url = await listeningUrl(proc, 'serve', () => stderr);
  return { url, proc, stderr: () => stderr };
}

export async function kill(server: Server, signal: NodeJS.Signals): Promise<void> {
  if (server.proc.exitCode !== null || server.proc.signalCode !== null) return;
  const exited = once(server.proc, 'exit');
  server.proc.kill(signal);
  await exited;
}

/** A JSON request over real HTTP; the body is `any` (Answer), its shape checked by the assertions. */
export async function http(
  url: string,
  key: string,
  method: 'GET' | 'POST' = 'GET',
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text), headers: Object.fromEntries(res.headers) };
}

/** Polls /metrics until the gateway holds `n` long-poll waiters: the request is parked, not answered yet. */
export async function waitersParked(base: string, n: number): Promise<void> {
  for (;;) {
    const text = await (await fetch(`${base}/metrics`)).text();
    const m = /^countersign_waiters\{kind="long_poll"\} (\d+)$/m.exec(text);
    if (Number(m?.[1] ?? 0) >= n) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface SseEvent {
  id: number;
  type: string;
  data: { action_id: string; action: { status: string } };
}

/** A minimal EventSource over fetch: yields parsed events in arrival order. */
export function openSse(url: string, key: string, lastEventId?: number) {
  const abort = new AbortController();
  const queue: SseEvent[] = [];
  let wake: (() => void) | undefined;
  let ended: Error | undefined;
  void (async () => {
    const res = await fetch(url, {
      headers: { authorization: `Bearer ${key}`, ...(lastEventId === undefined ? {} : { 'last-event-id': String(lastEventId) }) },
      signal: abort.signal,
    });
    assert.equal(res.status, 200);
    assert.ok(res.body);
    const decoder = new TextDecoder();
    let buf = '';
    for await (const chunk of res.body) {
      buf += decoder.decode(chunk as Uint8Array, { stream: true });
      for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
        const frame = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const fields = new Map<string, string>();
        for (const line of frame.split('\n')) {
          const c = line.indexOf(':');
          if (c > 0) fields.set(line.slice(0, c), line.slice(c + 1).trimStart());
        }
        const id = fields.get('id');
        if (id === undefined) continue; // retry hint or keep-alive comment
        queue.push({ id: Number(id), type: fields.get('event') ?? '', data: JSON.parse(fields.get('data') ?? 'null') });
        wake?.();
      }
    }
    throw new Error('event stream ended');
  })().catch((e: Error) => {
    ended = e;
    wake?.();
  });
  return {
    async next(): Promise<SseEvent> {
      while (queue.length === 0) {
        if (ended) throw ended;
        await new Promise<void>((r) => {
          wake = r;
        });
      }
      return queue.shift() as SseEvent;
    },
    close: () => abort.abort(),
  };
}

/** The URL a `countersign serve` child prints once it listens; rejects with its stderr if it exits first. */
export function listeningUrl(proc: ChildProcess, name: string, stderr: () => string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let out = '';
    const onData = (s: string) => {
      out += s;
      const m = /^countersign listening on (http:\/\/\S+)$/m.exec(out);
      if (m?.[1]) {
        proc.stdout?.off('data', onData);
        proc.stdout?.resume();
        resolve(m[1]);
      }
    };
    proc.stdout?.setEncoding('utf8').on('data', onData);
    proc.once('exit', (code) => reject(new Error(`${name} exited (${code}) before listening:\n${stderr()}`)));
  });
}
