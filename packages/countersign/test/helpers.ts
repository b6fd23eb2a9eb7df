import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { TracerProvider } from '@opentelemetry/api';
import pg from 'pg';
import pino from 'pino';
import { parse as parseYaml } from 'yaml';
import { loadConfig, policySection } from '../src/config/load.js';
import { type Config, ConfigFileSchema } from '../src/config/schema.js';
import type { Actor } from '../src/db/committer.js';
import { addAgent } from '../src/domain/identities/add-agent.js';
import { addUser } from '../src/domain/identities/add-user.js';
import { type Gateway, startGateway } from '../src/gateway.js';
import type { Clock } from '../src/lib/clock.js';

export type Dialect = 'sqlite' | 'postgres';
export const DIALECTS: readonly Dialect[] = ['sqlite', 'postgres'];
export const PG_URL = process.env.COUNTERSIGN_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const ADMIN: Actor = { type: 'admin', id: 'test' };

/** Runs the same suite once per storage dialect, against real servers. */
export function forEachDialect(title: string, fn: (dialect: Dialect) => void): void {
  for (const dialect of DIALECTS) describe(`${title} [${dialect}]`, () => fn(dialect));
}

export interface TestEnv {
  config: Config;
  schema?: string;
  cleanup(): Promise<void>;
}

/** A fresh, empty database: a temp SQLite file, or a new PostgreSQL schema dropped afterwards. */
export function testEnv(dialect: Dialect, fileConfig: Record<string, unknown> = {}): TestEnv {
  const dir = mkdtempSync(join(tmpdir(), 'cs-test-'));
  if (dialect === 'sqlite') {
    const config = loadConfig({ env: {}, overrides: { dataDir: dir, port: 0 } });
    return { config: { ...config, ...fileConfig }, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const schema = `cs_t_${randomBytes(6).toString('hex')}`;
  const config = loadConfig({ env: {}, overrides: { dataDir: dir, port: 0, databaseUrl: PG_URL } });
  return {
    config: { ...config, ...fileConfig },
    schema,
    cleanup: async () => {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      try {
        await client.query(`drop schema if exists ${schema} cascade`);
      } finally {
        await client.end();
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface World {
  gw: Gateway;
  env: TestEnv;
  /** reviewer alice, reviewer carol, viewer victor, admin ada; bob owns agent "deployer". */
  keys: { alice: string; carol: string; victor: string; ada: string; bob: string; agent: string; otherAgent: string };
  ids: { alice: string; bob: string; agent: string; otherAgent: string };
  close(): Promise<void>;
}

export interface WorldOptions {
  clock?: Clock;
  config?: (c: Config) => Config;
  listen?: boolean;
  /** Agents whose annotations the operator vouches for (policy `trust_annotations`), as an MCP proxy's agent is. */
  trustAnnotationsOf?: string[];
  /** Record spans with this provider (tracing tests: an SDK provider with an in-memory exporter). */
  tracerProvider?: TracerProvider;
}

/** A running gateway (in-process unless listen) with a small cast of people and agents. */
export async function world(dialect: Dialect, opts: WorldOptions = {}): Promise<World> {
  const env = testEnv(dialect);
  const configured = opts.config ? opts.config(env.config) : env.config;
  const config = opts.trustAnnotationsOf ? trustingAnnotationsOf(...opts.trustAnnotationsOf)(configured) : configured;
  let gw: Gateway;
  try {
    gw = await startGateway(config, {
      listen: opts.listen ?? false,
      logger: pino({ level: 'silent' }),
      ...(opts.clock ? { clock: opts.clock } : {}),
      ...(env.schema ? { schema: env.schema } : {}),
      ...(opts.tracerProvider ? { tracerProvider: opts.tracerProvider } : {}),
    });
  } catch (e) {
    // Leave no orphaned schema or temp dir behind when start-up fails.
    await env.cleanup();
    throw e;
  }
  const d = gw.deps;
  const alice = await addUser(d, ADMIN, { email: 'alice@example.com', role: 'reviewer' });
  const carol = await addUser(d, ADMIN, { email: 'carol@example.com', role: 'reviewer' });
  const victor = await addUser(d, ADMIN, { email: 'victor@example.com', role: 'viewer' });
  const ada = await addUser(d, ADMIN, { email: 'ada@example.com', role: 'admin' });
  const bob = await addUser(d, ADMIN, { email: 'bob@example.com', role: 'reviewer' });
  const agent = await addAgent(d, ADMIN, { name: 'deployer', owner: 'bob@example.com' });
  const other = await addAgent(d, ADMIN, { name: 'other-agent', owner: 'carol@example.com' });
  return {
    gw,
    env,
    keys: {
      alice: alice.apiKey,
      carol: carol.apiKey,
      victor: victor.apiKey,
      ada: ada.apiKey,
      bob: bob.apiKey,
      agent: agent.apiKey,
      otherAgent: other.apiKey,
    },
    ids: { alice: alice.id, bob: bob.id, agent: agent.id, otherAgent: other.id },
    async close() {
      await gw.close();
      await env.cleanup();
    },
  };
}

/** A config transformer: the operator vouches for these agents' annotations (policy `trust_annotations`). */
export function trustingAnnotationsOf(...agents: string[]): (c: Config) => Config {
  return (c) => ({ ...c, policy: { ...c.policy, trust_annotations: agents } });
}

/** A config transformer that installs the policy, workflows and grant bounds written as YAML (as in a config file). */
export function withPolicy(yamlText: string): (c: Config) => Config {
  const file = ConfigFileSchema.parse(parseYaml(yamlText));
  return (c) => ({
    ...c,
    ...policySection(file),
    grants: { maxDurationMs: file.grants?.max_duration ?? c.grants.maxDurationMs, maxUses: file.grants?.max_uses ?? c.grants.maxUses },
  });
}

/** Adds people (reviewers by default) and returns their API keys by email. */
export async function addPeople(w: World, people: { email: string; role?: 'admin' | 'reviewer' | 'viewer'; groups?: string[] }[]) {
  const keys: Record<string, string> = {};
  for (const p of people) keys[p.email] = (await addUser(w.gw.deps, ADMIN, { role: 'reviewer', ...p })).apiKey;
  return keys;
}

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Record<string, unknown>;
}

/** Calls the HTTP API in-process (Fastify inject): real routing, parsing, auth and error mapping. */
export async function call<T = any>(
  w: World,
  method: 'GET' | 'POST',
  url: string,
  key?: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<ApiResponse<T>> {
  const res = await w.gw.app.inject({
    method,
    url,
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(body !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  let parsed: unknown = res.body;
  try {
    parsed = JSON.parse(res.body);
  } catch {
    // not JSON (metrics, SSE)
  }
  return { status: res.statusCode, body: parsed as T, headers: res.headers };
}

export async function propose(w: World, body: Record<string, unknown> = {}, key = w.keys.agent, headers: Record<string, string> = {}) {
  return call(w, 'POST', '/v1/actions', key, { tool: 'deploy', arguments: { env: 'production' }, ...body }, headers);
}

export async function review(w: World, id: string, key: string, body: Record<string, unknown>) {
  return call(w, 'POST', `/v1/actions/${id}/reviews`, key, body);
}

export async function auditRows(w: World, actionId?: string) {
  let q = w.gw.deps.db.read.selectFrom('audit_log').selectAll().orderBy('seq');
  if (actionId) q = q.where('action_id', '=', actionId);
  return q.execute();
}

/**
 * The environment for admin CLI commands on a world's database (its data dir; on PostgreSQL its schema
 * through the URL's search_path), as an operator on the server would run them.
 */
export function cliEnvFor(w: World): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('COUNTERSIGN_')) env[k] = v;
  const url = w.env.schema ? `${PG_URL}?options=${encodeURIComponent(`-c search_path=${w.env.schema}`)}` : undefined;
  return {
    ...env,
    COUNTERSIGN_LOG_LEVEL: 'warn',
    COUNTERSIGN_DATA_DIR: w.gw.deps.config.dataDir,
    ...(url ? { COUNTERSIGN_DATABASE_URL: url } : {}),
  };
}

/**
 * The repository root and the built CLI entry point (what `npx countersign` runs; scripts/run-tests.mjs
 * builds it first), for tests that run `countersign` or a fixture as a child process. The root is found, not
 * counted in '..': the tests run from a compiled copy of this tree (scripts/build-tests.mjs).
 */
export const REPO_ROOT = repositoryRoot(dirname(fileURLToPath(import.meta.url)));
export const CLI_MAIN = join(REPO_ROOT, 'packages/countersign/dist/cli/main.js');

function repositoryRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && 'workspaces' in JSON.parse(readFileSync(manifest, 'utf8'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no repository root above ${from}`);
  }
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `countersign ARGS` with exactly `env`, and collects its output. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  const child = spawn(process.execPath, [CLI_MAIN, ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}
