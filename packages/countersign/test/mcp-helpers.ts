/** Shared pieces of the MCP proxy tests (mcp-*.test.ts). */
// biome-ignore-all lint/suspicious/noExplicitAny: gateway JSON bodies; the tests assert their shape
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type CallToolResult, Client, type ClientOptions } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { stringify } from 'yaml';
import { CLI_MAIN, call, REPO_ROOT, type World } from './helpers.js';

export const FS_SERVER = resolve(REPO_ROOT, 'node_modules/@modelcontextprotocol/server-filesystem/dist/index.js');
export const MEMORY_SERVER = resolve(REPO_ROOT, 'node_modules/@modelcontextprotocol/server-memory/dist/index.js');
export const MUTABLE_SERVER = resolve(REPO_ROOT, 'packages/countersign/test/fixtures/mcp-mutable-server.ts');

/** A temp directory removed by cleanup(). */
export function tempDir(prefix = 'cs-mcp-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The environment of a proxy child: the gateway, the agent key, and nothing else of ours. */
export function proxyEnv(w: World, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of ['PATH', 'HOME', 'TMPDIR']) if (process.env[k]) env[k] = process.env[k] as string;
  return { ...env, COUNTERSIGN_URL: w.gw.url, COUNTERSIGN_AGENT_KEY: w.keys.agent, COUNTERSIGN_LOG_LEVEL: 'warn', ...extra };
}

/** Writes a config file with the given `mcp` section and returns its path. */
export function writeConfig(dir: string, mcp: Record<string, unknown>): string {
  const path = join(dir, 'countersign.yaml');
  writeFileSync(path, stringify({ mcp }));
  return path;
}

/** The argv that runs the built proxy. */
export function proxyArgv(args: string[]): string[] {
  return [CLI_MAIN, 'mcp', 'proxy', ...args];
}

/** An MCP client (the SDK's own) connected to `countersign mcp proxy ARGS` over stdio. */
export async function connectStdio(args: string[], env: Record<string, string>, options: ClientOptions = {}): Promise<Client> {
  const client = new Client({ name: 'proxy-test', version: '1.0.0' }, options);
  await client.connect(
    new StdioClientTransport({ command: process.execPath, args: proxyArgv(args), env, cwd: REPO_ROOT, stderr: 'inherit' }),
  );
  return client;
}

/** As connectStdio, keeping the proxy's stderr (its log) for the test to read. */
export async function connectStdioLogged(args: string[], env: Record<string, string>): Promise<{ client: Client; stderr(): string }> {
  const transport = new StdioClientTransport({ command: process.execPath, args: proxyArgv(args), env, cwd: REPO_ROOT, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const client = new Client({ name: 'proxy-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, stderr: () => stderr };
}

export interface ListeningProxy {
  child: ChildProcess;
  url: URL;
  stop(): Promise<void>;
}

/** Starts `countersign mcp proxy --listen 0 ARGS` and waits for the URL it prints. */
export async function startListening(args: string[], env: Record<string, string>): Promise<ListeningProxy> {
  const child = spawn(process.execPath, proxyArgv(['--listen', '0', ...args]), {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  let stderr = '';
  const url = await new Promise<URL>((resolveUrl, reject) => {
    child.stderr?.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
      const m = /listening on (http:\/\/\S+)/.exec(stderr);
      if (m?.[1]) resolveUrl(new URL(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`proxy exited (${code}) before listening: ${stderr}`)));
  });
  child.stderr?.resume();
  return {
    child,
    url,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Polls the gateway until exactly one action for `tool` has `status`; returns it. */
export async function waitForAction(w: World, tool: string, status = 'pending', timeoutMs = 10_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await call(w, 'GET', `/v1/actions?status=${status}&tool=${encodeURIComponent(tool)}`, w.keys.alice);
    if (res.body.items?.length === 1) return res.body.items[0];
    assert.ok((res.body.items?.length ?? 0) <= 1, `more than one ${status} ${tool} action`);
    if (Date.now() > deadline) throw new Error(`no ${status} action for ${tool} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Polls one action until it has `status` (results are reported just after the call returns). */
export async function waitForStatus(w: World, id: string, status: string, timeoutMs = 5000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const a = (await call(w, 'GET', `/v1/actions/${id}`, w.keys.alice)).body;
    if (a.status === status) return a;
    if (Date.now() > deadline) throw new Error(`action ${id} is ${a.status}, not ${status}, after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Every action of `tool`, newest first. */
export async function actionsOf(w: World, tool: string): Promise<any[]> {
  return (await call(w, 'GET', `/v1/actions?tool=${encodeURIComponent(tool)}&limit=100`, w.keys.alice)).body.items;
}

/** The text of a tool result. */
export function textOf(r: CallToolResult | unknown): string {
  const result = r as CallToolResult;
  return result.content.map((c) => (c.type === 'text' ? c.text : `[${c.type}]`)).join('\n');
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` until it holds; fails the test after `timeoutMs`. */
export async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}
