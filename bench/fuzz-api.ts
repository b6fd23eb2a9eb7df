/**
 * Long fuzz run over every route of /openapi.json, over real HTTP against a listening gateway
 * (loopback only), with the request generator the CI test uses (packages/countersign/test/fuzz-requests.ts):
 *
 *   node --import tsx bench/fuzz-api.ts [--requests 100000] [--db sqlite|postgres] [--concurrency 16]
 *                                       [--seed N] [--max-seconds 1800]
 *
 * Prints the request count and a histogram of status codes, then checks the gateway is healthy
 * (/healthz, a normal proposal, the audit chain verifies). Exits 1 on any 5xx, stall (no answer in
 * 10 s) or failed check; answers slower than 1 s are counted and shown.
 * PostgreSQL: COUNTERSIGN_BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres); a fresh
 * schema cs_fuzz_<hex>, dropped afterwards. SQLite: a fresh temp directory, deleted afterwards.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import pino from 'pino';
import { parse as parseYaml } from 'yaml';
import { loadConfig, policySection } from '../packages/countersign/src/config/load.js';
import { ConfigFileSchema } from '../packages/countersign/src/config/schema.js';
import { verifyAudit } from '../packages/countersign/src/domain/audit/verify-audit.js';
import { addAgent } from '../packages/countersign/src/domain/identities/add-agent.js';
import { addUser } from '../packages/countersign/src/domain/identities/add-user.js';
import { startGateway } from '../packages/countersign/src/gateway.js';
import { FUZZ_POLICY, type FuzzRequest, makeRequest, operationsOf, seededRng } from '../packages/countersign/test/fuzz-requests.js';

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '100000' },
    db: { type: 'string', default: 'sqlite' },
    concurrency: { type: 'string', default: '16' },
    seed: { type: 'string' },
    'max-seconds': { type: 'string', default: '1800' },
  },
});
const REQUESTS = Number(args.requests);
const CONCURRENCY = Number(args.concurrency);
const SEED = Number(args.seed ?? randomInt(2 ** 31));
const DEADLINE = Date.now() + Number(args['max-seconds']) * 1000;
/**
 * No answer (not even a stream's headers) within this long is a stall. Generous: on a shared 2-core
 * machine a write can queue for a second or two behind other processes; a real stall (a body never
 * timed out, a lock never released) lasts far longer. Slow answers are counted and shown separately.
 */
const STALL_MS = 10_000;
const SLOW_MS = 1000;
const PG_URL = process.env.COUNTERSIGN_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const ADMIN = { type: 'admin' as const, id: 'fuzz' };
const dir = mkdtempSync(join(tmpdir(), 'cs-fuzz-'));
const schema = args.db === 'postgres' ? `cs_fuzz_${randomBytes(6).toString('hex')}` : undefined;
const base = loadConfig({
  env: {},
  overrides: { dataDir: dir, port: 0, host: '127.0.0.1', ...(schema ? { databaseUrl: PG_URL } : {}) },
});
const config = { ...base, ...policySection(ConfigFileSchema.parse(parseYaml(FUZZ_POLICY))) };
const gw = await startGateway(config, { listen: true, logger: pino({ level: 'silent' }), ...(schema ? { schema } : {}) });
const url = new URL(gw.url);
if (url.hostname !== '127.0.0.1' && url.hostname !== 'localhost') throw new Error(`refusing to fuzz a non-loopback address ${gw.url}`);

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

interface Outcome {
  status: number | 'held' | 'stalled' | 'client-refused' | 'socket-error';
  request: FuzzRequest;
  body?: string;
}

/**
 * Sends one request; reads up to 2 KB of the answer; a stream's status is kept and the stream dropped.
 * A reset on a reused keep-alive socket (the server closed it after an earlier answer, as it does after
 * a 414 or a refused body) is the client's race, not an answer: that request is sent once more on a new
 * connection, and only a reset there counts.
 */
async function send(r: FuzzRequest): Promise<Outcome> {
  const first = await sendOn(r, agent);
  return first.status === 'socket-error' ? sendOn(r, false) : first;
}

function sendOn(r: FuzzRequest, via: http.Agent | false): Promise<Outcome> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (o: Outcome) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        resolve(o);
      }
    };
    let req: http.ClientRequest;
    try {
      req = http.request({ host: url.hostname, port: url.port, method: r.method, path: r.url, headers: r.headers, agent: via });
    } catch {
      // Node's client refuses some generated paths or headers outright: nothing reached the server.
      return resolve({ status: 'client-refused', request: r });
    }
    const timer = setTimeout(() => {
      done({ status: 'stalled', request: r });
      req.destroy();
    }, STALL_MS);
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      if (String(res.headers['content-type']).startsWith('text/event-stream')) {
        done({ status, request: r });
        req.destroy();
        return;
      }
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (s: string) => {
        if (body.length < 2048) body += s;
      });
      res.on('end', () => done({ status, request: r, body }));
      res.on('error', () => done({ status, request: r, body }));
    });
    req.on('error', (e) => done({ status: 'socket-error', request: r, body: (e as NodeJS.ErrnoException).code ?? e.message }));
    if (r.body !== undefined) req.end(r.body);
    else req.end();
  });
}

async function api(method: string, path: string, key?: string, body?: unknown) {
  const res = await fetch(new URL(path, gw.url), {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers of known routes; a wrong guess fails the run loudly
  return { status: res.status, body: (await res.json().catch(() => null)) as any };
}

let exitCode = 0;
try {
  const d = gw.deps;
  const [alice, bob, victor, ada] = [
    await addUser(d, ADMIN, { email: 'alice@example.com', role: 'reviewer' }),
    await addUser(d, ADMIN, { email: 'bob@example.com', role: 'reviewer' }),
    await addUser(d, ADMIN, { email: 'victor@example.com', role: 'viewer' }),
    await addUser(d, ADMIN, { email: 'ada@example.com', role: 'admin' }),
  ];
  const deployer = await addAgent(d, ADMIN, { name: 'deployer', owner: 'bob@example.com' });
  const other = await addAgent(d, ADMIN, { name: 'other-agent', owner: 'alice@example.com' });
  const pending = await api('POST', '/v1/actions', deployer.apiKey, { tool: 'deploy', arguments: { env: 'production' } });
  const redeemed = await api('POST', '/v1/actions?redeem=true', deployer.apiKey, { tool: 'read', arguments: {} });
  const batch = await api('POST', '/v1/actions/batch', deployer.apiKey, { actions: [{ tool: 'deploy', arguments: { b: 1 } }] });
  const source = await api('POST', '/v1/actions', deployer.apiKey, { tool: 'deploy', arguments: { env: 'staging' } });
  await api('POST', `/v1/actions/${source.body.id}/reviews`, alice.apiKey, { decision: 'approve', grant: {} });
  const grants = await api('GET', '/v1/grants', ada.apiKey);
  const ids = [pending.body.id, redeemed.body.id, batch.body.batch_id, batch.body.actions[0].id, source.body.id, grants.body.items[0].id];

  const doc = (await api('GET', '/openapi.json')).body;
  const ops = operationsOf(doc);
  const ctx = {
    keys: {
      agent: deployer.apiKey,
      otherAgent: other.apiKey,
      reviewer: alice.apiKey,
      owner: bob.apiKey,
      viewer: victor.apiKey,
      admin: ada.apiKey,
      none: null,
    },
    ids,
    latin1Headers: true,
  };
  const rng = seededRng(SEED);
  console.log(
    `fuzzing ${ops.length} operations of ${gw.url} on ${args.db}: ${REQUESTS} requests, concurrency ${CONCURRENCY}, seed ${SEED}`,
  );

  const histogram: Record<string, number> = {};
  const failures: Outcome[] = [];
  const socketErrors: Outcome[] = [];
  let sent = 0;
  let answered = 0;
  const latencies: number[] = [];
  const slow: string[] = [];
  const started = Date.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (sent < REQUESTS && Date.now() < DEADLINE) {
        const i = sent++;
        const request = makeRequest(doc, ops[i % ops.length] as (typeof ops)[number], ctx, rng);
        const t0 = performance.now();
        const o = await send(request);
        const ms = performance.now() - t0;
        latencies.push(ms);
        if (ms > SLOW_MS) slow.push(`${Math.round(ms)} ms ${request.method} ${request.route} -> ${o.status}`);
        histogram[o.status] = (histogram[o.status] ?? 0) + 1;
        if (o.status === 'socket-error') socketErrors.push(o);
        if ((typeof o.status === 'number' && o.status >= 500) || o.status === 'stalled') failures.push(o);
        answered += 1;
        if (answered % 10000 === 0) console.log(`  ${answered} answered, ${Math.round((Date.now() - started) / 1000)} s`);
      }
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  const sorted = Object.fromEntries(Object.entries(histogram).sort(([a], [b]) => a.localeCompare(b)));
  console.log(`requests: ${sent} in ${seconds.toFixed(1)} s (${Math.round(sent / seconds)}/s)`);
  console.log(`status histogram: ${JSON.stringify(sorted)}`);
  latencies.sort((a, b) => a - b);
  const at = (q: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0);
  console.log(`latency ms: p50 ${at(0.5)}, p99 ${at(0.99)}, max ${at(1)}; over ${SLOW_MS} ms: ${slow.length}`);
  for (const line of slow.slice(0, 5)) console.log(`  ${line}`);
  console.log(`5xx or stalled: ${failures.length}`);
  const resets = new Map<string, number>();
  for (const o of socketErrors) {
    const why = `${o.body} (${o.request.body === undefined ? 'no body' : `${Buffer.byteLength(o.request.body)} B body`}, ${o.request.url.length} B url)`;
    resets.set(why, (resets.get(why) ?? 0) + 1);
  }
  if (resets.size > 0) console.log(`connections the server ended before answering: ${JSON.stringify(Object.fromEntries(resets))}`);
  for (const f of failures.slice(0, 10)) {
    console.log(
      `  ${f.status} ${f.request.method} ${f.request.url.slice(0, 200)} ${String(f.request.body ?? '').slice(0, 200)} -> ${f.body ?? ''}`,
    );
  }

  const health = await api('GET', '/healthz');
  const normal = await api('POST', '/v1/actions', deployer.apiKey, { tool: 'deploy', arguments: { after: 'fuzz' } });
  const verified = await verifyAudit(gw.deps.db.read);
  console.log(
    `after: /healthz ${health.status}, a normal proposal ${normal.status}, audit verify ${verified.ok ? 'ok' : 'FAILED'} (${verified.entries} entries)`,
  );
  if (failures.length > 0 || health.status !== 200 || normal.status !== 201 || !verified.ok) exitCode = 1;
} finally {
  agent.destroy();
  await gw.close();
  if (schema) {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`drop schema if exists ${schema} cascade`);
    await client.end();
  }
  rmSync(dir, { recursive: true, force: true });
}
process.exit(exitCode);
