/**
 * The server under test, run as a child of bench/core.ts so the load generator
 * and the server each get their own core:
 *
 *   node --import tsx bench/server.ts echo                 bare Fastify 5 JSON echo
 *   node --import tsx bench/server.ts echo-sign            the echo + one Ed25519-signed JWS of the body
 *   node --import tsx bench/server.ts sqlite               gateway on a fresh temp SQLite file
 *   node --import tsx bench/server.ts postgres <schema>    gateway on a fresh PostgreSQL schema
 *
 * With postgres, BENCH_JOIN=1 starts a second gateway on a schema another server child already set up
 * (no people or agents are added; it reports empty keys: use the first one's), and BENCH_NOTIFY=0 turns
 * off the commit notify other gateways wake from (bench/cross-node.ts measures what it costs).
 * BENCH_MAX_WAIT_SECONDS raises the long-poll cap (limits.max_wait_seconds) for bench/waiters.ts.
 *
 * It listens on 127.0.0.1 (random port) and reports over IPC (or, when run by
 * hand, on stdout): { type: 'ready', url, keys }. It stops on an IPC 'stop'
 * message, on SIGTERM/SIGINT, or when the parent goes away, and exits
 * cleanly so `--cpu-prof` profiles get written.
 */
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Fastify from 'fastify';
import { sql } from 'kysely';
import pino from 'pino';
import type { Actor } from '../packages/countersign/src/db/committer.js';
import type { Gateway } from '../packages/countersign/src/gateway.js';
import type { GcMessage, ReadyMessage, ServerMode, StatsMessage } from './protocol.js';

/**
 * The gateway is loaded from its TypeScript source (through tsx) unless
 * BENCH_PACKAGE_DIR names a directory of compiled JS with the same layout
 * (core.ts builds one for CPU profiling, so profiles carry real line numbers).
 */
const PKG = process.env.BENCH_PACKAGE_DIR
  ? pathToFileURL(`${process.env.BENCH_PACKAGE_DIR}/`).href
  : new URL('../packages/countersign/src/', import.meta.url).href;
const load = <T>(path: string): Promise<T> => import(new URL(path, PKG).href) as Promise<T>;
const { loadConfig } = await load<typeof import('../packages/countersign/src/config/load.js')>('config/load.js');
const { Committer } = await load<typeof import('../packages/countersign/src/db/committer.js')>('db/committer.js');
const { addAgent } =
  await load<typeof import('../packages/countersign/src/domain/identities/add-agent.js')>('domain/identities/add-agent.js');
const { addUser } = await load<typeof import('../packages/countersign/src/domain/identities/add-user.js')>('domain/identities/add-user.js');
const { startGateway } = await load<typeof import('../packages/countersign/src/gateway.js')>('gateway.js');

const PG_URL = process.env.COUNTERSIGN_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ADMIN: Actor = { type: 'admin', id: 'bench' };

const mode = process.argv[2] as ServerMode | undefined;
const schema = process.argv[3];
if (mode !== 'echo' && mode !== 'echo-sign' && mode !== 'sqlite' && mode !== 'postgres') {
  console.error('usage: server.ts echo|echo-sign|sqlite|postgres [schema]');
  process.exit(2);
}
if (mode === 'postgres' && !schema) {
  console.error('postgres mode needs a schema name');
  process.exit(2);
}

/**
 * Observation only (no behaviour change): count the committer's batches and the
 * time spent inside their transactions, so the report can show how well group
 * commit is batching under load. Patched on the prototype from here because
 * the bench must not modify the package.
 */
const commitStats = { batches: 0, ops: 0, txMs: 0 };
/** CPU time of this process since the last 'reset-stats'. */
let cpuAtReset = process.cpuUsage();
const cpuSinceReset = () => {
  const u = process.cpuUsage(cpuAtReset);
  return { cpuMs: (u.user + u.system) / 1000 };
};
{
  type Internals = { runBatch(batch: unknown[]): Promise<void>; transact(batch: unknown[]): Promise<unknown> };
  const proto = Committer.prototype as unknown as Internals;
  const runBatch = proto.runBatch;
  const transact = proto.transact;
  proto.runBatch = function (this: Internals, batch: unknown[]) {
    commitStats.batches += 1;
    commitStats.ops += batch.length;
    return runBatch.call(this, batch);
  };
  proto.transact = async function (this: Internals, batch: unknown[]) {
    const t0 = performance.now();
    try {
      return await transact.call(this, batch);
    } finally {
      commitStats.txMs += performance.now() - t0;
    }
  };
}

function send(msg: ReadyMessage | StatsMessage): void {
  if (process.send) process.send(msg);
  else console.log(JSON.stringify(msg));
}

let stop: () => Promise<void> = async () => undefined;
let stats: () => Promise<StatsMessage> = async () => ({
  type: 'stats',
  actions: 0,
  audit: 0,
  events: 0,
  ...commitStats,
  ...cpuSinceReset(),
});

if (mode === 'echo' || mode === 'echo-sign') {
  const app = Fastify({ logger: false });
  if (mode === 'echo') app.post('/v1/actions', async (request) => request.body);
  else {
    // What a receipt costs and nothing else: the same node:crypto Ed25519 call issueReceipt makes,
    // over a header and claims of a receipt's size. No storage, no canonical JSON, no hashing.
    const { privateKey } = generateKeyPairSync('ed25519');
    const header = Buffer.from(JSON.stringify({ alg: 'EdDSA', kid: 'bench', typ: 'countersign-receipt+jwt' })).toString('base64url');
    app.post('/v1/actions', async (request) => {
      const claims = Buffer.from(JSON.stringify({ sub: randomUUID(), iat: Date.now(), body: request.body })).toString('base64url');
      const input = `${header}.${claims}`;
      return { ...(request.body as object), receipt: `${input}.${sign(null, Buffer.from(input), privateKey).toString('base64url')}` };
    });
  }
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  stop = () => app.close();
  send({ type: 'ready', mode, url, keys: { agent: '', reviewer: '' } });
} else {
  const dir = mkdtempSync(join(tmpdir(), 'cs-bench-'));
  const base = loadConfig({
    env: {},
    overrides: { dataDir: dir, port: 0, host: '127.0.0.1', ...(mode === 'postgres' ? { databaseUrl: PG_URL } : {}) },
  });
  // The built-in policy with the operator vouching for the bench agent's hints: its read-only calls pass at once.
  // BENCH_MAX_WAIT_SECONDS lets bench/waiters.ts keep 10,000 long-polls parked for longer than parking them all takes.
  const maxWait = Number(process.env.BENCH_MAX_WAIT_SECONDS ?? base.limits.maxWaitSeconds);
  const config = {
    ...base,
    limits: { ...base.limits, maxWaitSeconds: maxWait },
    policy: { ...base.policy, trust_annotations: ['bench-agent'] },
  };
  // Warnings and errors go to stderr (the parent's terminal); nothing per request.
  const logger = pino({ level: 'warn' }, pino.destination(2));
  const gw: Gateway = await startGateway(config, {
    logger,
    ...(mode === 'postgres' ? { schema } : {}),
    ...(process.env.BENCH_NOTIFY === '0' ? { notify: false } : {}),
  });
  const d = gw.deps;
  const joining = process.env.BENCH_JOIN === '1';
  // The agent's owner may never review its actions, so the reviewer is someone else.
  if (!joining) await addUser(d, ADMIN, { email: 'owner@bench.test', role: 'reviewer' });
  const reviewer = joining ? { apiKey: '' } : await addUser(d, ADMIN, { email: 'reviewer@bench.test', role: 'reviewer' });
  const agent = joining ? { apiKey: '' } : await addAgent(d, ADMIN, { name: 'bench-agent', owner: 'owner@bench.test' });
  stop = async () => {
    await gw.close();
    rmSync(dir, { recursive: true, force: true });
  };
  stats = async () => {
    // Captured first, so the figures describe the moment of the request, not the time the counting took.
    const usage = { ...commitStats, ...cpuSinceReset() };
    // One statement, so the three counts come from one snapshot even while commits are still landing.
    const { rows } = await sql<{ a: number | string; b: number | string; c: number | string }>`
      select (select count(*) from actions) as a, (select count(*) from audit_log) as b, (select count(*) from events) as c`.execute(
      d.db.read,
    );
    const r = rows[0];
    return { type: 'stats', actions: Number(r?.a), audit: Number(r?.b), events: Number(r?.c), ...usage };
  };
  send({ type: 'ready', mode, url: gw.url, keys: { agent: agent.apiKey, reviewer: reviewer.apiKey } });
}

let stopping = false;
async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  const force = setTimeout(() => process.exit(code || 1), 10_000);
  force.unref();
  try {
    await stop();
  } catch (e) {
    console.error('server shutdown failed:', e);
    code = code || 1;
  }
  process.exit(code);
}

process.on('message', (msg: { type?: string }) => {
  if (msg?.type === 'stop') void shutdown(0);
  if (msg?.type === 'reset-stats') {
    Object.assign(commitStats, { batches: 0, ops: 0, txMs: 0 });
    cpuAtReset = process.cpuUsage();
  }
  if (msg?.type === 'stats') void stats().then(send, (e) => console.error('stats failed:', e));
  // bench/waiters.ts measures live heap per waiter after a full collection, not the garbage parking left.
  if (msg?.type === 'gc') {
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    process.send?.({ type: 'gc-done', ran: gc !== undefined } satisfies GcMessage);
  }
});
process.on('disconnect', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));
process.on('SIGINT', () => void shutdown(0));
