/**
 * Where one review's time goes, and how many statements it sends to the database:
 *
 *   node --import tsx bench/review-phases.ts            # both databases, about 30 s each
 *   BENCH_PHASES_N=100 BENCH_PHASES_DB=postgres node --import tsx bench/review-phases.ts
 *
 * One gateway in this process (startGateway on a fresh SQLite file or PostgreSQL schema). For each of N
 * actions, one at a time: the agent proposes (pending), parks a long-poll on it, and a reviewer approves it
 * over HTTP. Observers on the prototypes (they change no behaviour) time the committer's phases and every
 * statement: node-postgres `Client.query` (each one a round trip) and better-sqlite3 `Statement` calls.
 *
 * Printed per review (median over N): the round trips on the write connection, the statements by kind with
 * their time, and the phases: HTTP review round trip, committer.run (queued → resolved), the transaction,
 * the op inside it, and review sent → the waiter has the answer. Times are for proportions on a shared
 * machine; the statement count does not depend on load.
 */

import { AsyncLocalStorage } from 'node:async_hooks';
import http from 'node:http';
import os from 'node:os';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import pg from 'pg';
import pino from 'pino';
import { Committer } from '../packages/countersign/src/db/committer.js';
import { addAgent } from '../packages/countersign/src/domain/identities/add-agent.js';
import { addUser } from '../packages/countersign/src/domain/identities/add-user.js';
import { startGateway } from '../packages/countersign/src/gateway.js';
import { benchDatabase } from './bench-database.js';
import { request } from './http-request.js';

const N = Number(process.env.BENCH_PHASES_N ?? 200);
const WARMUP = Number(process.env.BENCH_PHASES_WARMUP ?? 20);
const DBS = (process.env.BENCH_PHASES_DB ?? 'sqlite,postgres').split(',').map((s) => s.trim());
/** How many of the slowest reviews to list one by one (the tail: which step was slow, a GC pause, what ran beside). */
const SLOWEST = Number(process.env.BENCH_PHASES_SLOWEST ?? 10);

/** This process's GC pauses (the gateway runs in it), to tell a pause from a slow round trip in the tail. */
const gcPauses: { start: number; ms: number }[] = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcPauses.push({ start: e.startTime, ms: e.duration });
}).observe({ entryTypes: ['gc'] });

/** What the observers collect for the review being measured (reset before each review). */
interface Sample {
  statements: Map<string, { n: number; ms: number }>;
  /** Every statement outside the committer: its kind and when it was sent and answered. */
  others: { kind: string; sent: number; done: number }[];
  /** When the review's COMMIT was answered (the decision is durable from here on). */
  committedAt: number;
  runMs: number;
  txMs: number;
  opMs: number;
  /** The slowest statement of the review's transaction. */
  slowestTx: { kind: string; ms: number };
  /** When the review's transaction began (its wait in the committer's queue ends there). */
  txStart: number;
}
let recording = false;
let sample: Sample = fresh();
function fresh(): Sample {
  return {
    statements: new Map(),
    others: [],
    committedAt: Number.NaN,
    runMs: 0,
    txMs: 0,
    opMs: 0,
    slowestTx: { kind: '', ms: 0 },
    txStart: Number.NaN,
  };
}

/** A statement's kind: its first words, with table names (enough to tell BEGIN, the row lock, the append apart). */
function kindOf(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim().toLowerCase();
  const words = t.split(' ');
  const first = words[0] ?? '';
  if (first === 'with') {
    if (t.includes('chain_head')) return 'append: head, logs, counts, notify (one statement)';
    if (t.includes('update "actions"')) return 'insert reviews + update actions (one statement)';
    return `with … ${t.slice(0, 40)}`;
  }
  if (first === 'select') {
    // The table of the outer query, not of a scalar subquery in its select list (the feed reads the epoch with the events).
    let outer = t;
    while (/\([^()]*\)/.test(outer)) outer = outer.replace(/\([^()]*\)/g, '');
    const from = /from "?([a-z_]+)"?/.exec(outer)?.[1] ?? '?';
    return `select ${from}${t.includes('for update') ? ' for update' : ''}`;
  }
  if (first === 'insert') return `insert ${/into "?([a-z_]+)"?/.exec(t)?.[1] ?? '?'}`;
  if (first === 'update') return `update ${/update "?([a-z_]+)"?/.exec(t)?.[1] ?? '?'}`;
  if (first === 'delete') return `delete ${/from "?([a-z_]+)"?/.exec(t)?.[1] ?? '?'}`;
  return first;
}
/** Set inside the committer's transaction, so its statements are told from everyone else's. */
const inCommitter = new AsyncLocalStorage<true>();
function note(text: string, sent: number, committer: boolean): void {
  if (!recording) return;
  const done = performance.now();
  const ms = done - sent;
  const kind = kindOf(text);
  if (committer && kind === 'commit') sample.committedAt = done;
  if (!committer) sample.others.push({ kind, sent, done });
  else if (ms > sample.slowestTx.ms) sample.slowestTx = { kind, ms };
  const k = `${committer ? 'tx' : 'other'}: ${kind}`;
  const s = sample.statements.get(k) ?? { n: 0, ms: 0 };
  s.n += 1;
  s.ms += ms;
  sample.statements.set(k, s);
}

// node-postgres: every Client.query is one round trip (the write connection, the read pool, LISTEN).
{
  const proto = pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown };
  const query = proto.query;
  proto.query = function (this: unknown, ...args: unknown[]) {
    const q = args[0] as string | { text?: string };
    const text = typeof q === 'string' ? q : (q?.text ?? '');
    const t0 = performance.now();
    const committer = inCommitter.getStore() === true;
    const r = query.apply(this, args);
    if (r && typeof (r as Promise<unknown>).then === 'function') {
      const done = () => note(text, t0, committer);
      (r as Promise<unknown>).then(done, done);
    }
    return r;
  };
}
// better-sqlite3: statements run synchronously in this thread.
{
  const stmt = new Database(':memory:').prepare('select 1');
  const proto = Object.getPrototypeOf(stmt) as Record<string, (...a: unknown[]) => unknown>;
  for (const m of ['all', 'get', 'run', 'iterate'] as const) {
    const f = proto[m] as (...a: unknown[]) => unknown;
    proto[m] = function (this: { source: string }, ...args: unknown[]) {
      const t0 = performance.now();
      try {
        return f.apply(this, args);
      } finally {
        note(this.source, t0, inCommitter.getStore() === true);
      }
    };
  }
}
// The committer: run (queued → settled), the transaction, and the op inside it.
{
  type Internals = {
    run(op: (tx: unknown) => Promise<unknown>, opts?: unknown): Promise<unknown>;
    transact(batch: unknown[]): Promise<unknown>;
  };
  const proto = Committer.prototype as unknown as Internals;
  const { run, transact } = proto;
  proto.run = function (this: Internals, op, opts) {
    const t0 = performance.now();
    const timed = async (tx: unknown) => {
      const s = performance.now();
      try {
        return await op(tx);
      } finally {
        if (recording) sample.opMs += performance.now() - s;
      }
    };
    const p = run.call(this, timed, opts);
    const done = () => {
      if (recording) sample.runMs += performance.now() - t0;
    };
    p.then(done, done);
    return p;
  };
  proto.transact = async function (this: Internals, batch) {
    const t0 = performance.now();
    if (recording && Number.isNaN(sample.txStart)) sample.txStart = t0;
    try {
      return await inCommitter.run(true, () => transact.call(this, batch));
    } finally {
      if (recording) sample.txMs += performance.now() - t0;
    }
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : (s[Math.floor((s.length - 1) / 2)] as number);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function measure(dialect: string): Promise<string[]> {
  const db = benchDatabase(dialect, 'phases');
  const gw = await startGateway(
    { ...db.config, policy: { ...db.config.policy } },
    { logger: pino({ level: 'warn' }, pino.destination(2)), ...(db.schema ? { schema: db.schema } : {}) },
  );
  try {
    const d = gw.deps;
    const ADMIN = { type: 'admin', id: 'bench' } as const;
    await addUser(d, ADMIN, { email: 'owner@bench.test', role: 'reviewer' });
    const reviewer = await addUser(d, ADMIN, { email: 'reviewer@bench.test', role: 'reviewer' });
    const agent = await addAgent(d, ADMIN, { name: 'bench-agent', owner: 'owner@bench.test' });
    const base = new URL(gw.url);
    const keepAlive = new http.Agent({ keepAlive: true });
    const waiterAgent = new http.Agent({ keepAlive: true });
    const rows: { t0: number; rtt: number; wake: number; wakeFromCommit: number; s: Sample }[] = [];
    for (let i = 0; i < WARMUP + N; i++) {
      const p = await request(keepAlive, base, 'POST', '/v1/actions', agent.apiKey, {
        tool: 'deploy',
        arguments: { service: 'api', build: i },
        purpose: 'review phases benchmark',
      });
      const id = (JSON.parse(p.body) as { id: string }).id;
      const waiting = request(waiterAgent, base, 'GET', `/v1/actions/${id}?wait=30`, agent.apiKey);
      // Parked once the gauge says so (the waiter's first read is not part of the review).
      while (((await d.metrics.waiters.get()).values.find((v) => v.labels.kind === 'long_poll')?.value ?? 0) < 1) await sleep(1);
      sample = fresh();
      recording = true;
      const t0 = performance.now();
      const r = await request(keepAlive, base, 'POST', `/v1/actions/${id}/reviews`, reviewer.apiKey, { decision: 'approve' });
      const w = await waiting;
      recording = false;
      if (r.status !== 200 || w.status !== 200) throw new Error(`review ${r.status} ${r.body.slice(0, 200)} / wait ${w.status}`);
      if (i >= WARMUP) rows.push({ t0, rtt: r.at - t0, wake: w.at - t0, wakeFromCommit: w.at - sample.committedAt, s: sample });
    }
    keepAlive.destroy();
    waiterAgent.destroy();
    const kinds = new Set(rows.flatMap((r) => [...r.s.statements.keys()]));
    const out = [`${dialect}: ${N} reviews (median per review; load ${loadAvg()})`];
    const count = (r: (typeof rows)[number], prefix: string) =>
      [...r.s.statements].filter(([k]) => k.startsWith(prefix)).reduce((a, [, s]) => a + s.n, 0);
    out.push(`  statements in the review's transaction (tx): ${median(rows.map((r) => count(r, 'tx:')))}`);
    out.push(`  statements elsewhere meanwhile (other: auth, the waiter, background work): ${median(rows.map((r) => count(r, 'other:')))}`);
    for (const k of [...kinds].sort()) {
      const n = median(rows.map((r) => r.s.statements.get(k)?.n ?? 0));
      if (n === 0) continue;
      const ms = median(rows.map((r) => r.s.statements.get(k)?.ms ?? 0));
      out.push(`    ${k.padEnd(36)} ${String(n).padStart(3)} × ${ms.toFixed(3)} ms`);
    }
    // The waiter's own path: statements sent after the COMMIT was answered and answered before the waiter had
    // its answer (the identity check, and whatever else the commit woke that ran meanwhile), by kind.
    const after = (r: (typeof rows)[number]) =>
      r.s.others.filter((o) => o.sent >= r.s.committedAt && o.done <= r.s.committedAt + r.wakeFromCommit);
    out.push(
      `  statements sent after the COMMIT and answered before the waiter had its answer: ${median(rows.map((r) => after(r).length))}`,
    );
    const afterKinds = new Set(rows.flatMap((r) => after(r).map((o) => o.kind)));
    for (const k of [...afterKinds].sort()) {
      const n = median(rows.map((r) => after(r).filter((o) => o.kind === k).length));
      const share = rows.filter((r) => after(r).some((o) => o.kind === k)).length / rows.length;
      out.push(`    ${k.padEnd(36)} median ${n}, in ${(share * 100).toFixed(0)} % of reviews`);
    }
    // The tail, one review a line: percentiles of review sent → waiter, then the slowest reviews with their steps
    // (times from the review being sent), the slowest statement of their transaction, GC pauses in their window,
    // and every statement outside the committer meanwhile (kind @ sent + took).
    const slow = [...rows].sort((a, b) => b.wake - a.wake);
    const at = (q: number) => (slow[Math.min(slow.length - 1, Math.floor((1 - q) * slow.length))]?.wake ?? Number.NaN).toFixed(2);
    out.push(`  review sent → waiter: p50 ${at(0.5)}, p90 ${at(0.9)}, p99 ${at(0.99)}, max ${at(1)} ms; the ${SLOWEST} slowest:`);
    for (const r of slow.slice(0, SLOWEST)) {
      const gc = gcPauses.filter((g) => g.start + g.ms >= r.t0 && g.start <= r.t0 + r.wake).map((g) => g.ms.toFixed(1));
      const others = r.s.others.map((o) => `${o.kind} @${(o.sent - r.t0).toFixed(1)}+${(o.done - o.sent).toFixed(1)}`);
      out.push(
        `    ${r.wake.toFixed(2)} ms: review answered ${r.rtt.toFixed(2)}, transaction from ${(r.s.txStart - r.t0).toFixed(2)} for ${r.s.txMs.toFixed(2)} (op ${r.s.opMs.toFixed(2)}; slowest ${r.s.slowestTx.kind} ${r.s.slowestTx.ms.toFixed(2)}), COMMIT → waiter ${r.wakeFromCommit.toFixed(2)}; GC ${gc.join(', ') || 'none'}; beside: ${others.join(', ') || 'nothing'}`,
      );
    }
    const phase = (name: string, xs: number[]) => out.push(`  ${name.padEnd(44)} ${median(xs).toFixed(2)} ms`);
    phase(
      'review HTTP round trip',
      rows.map((r) => r.rtt),
    );
    phase(
      '  committer.run (queued → settled)',
      rows.map((r) => r.s.runMs),
    );
    phase(
      '    transaction (BEGIN … COMMIT)',
      rows.map((r) => r.s.txMs),
    );
    phase(
      '      op (reads, vote, receipt, view)',
      rows.map((r) => r.s.opMs),
    );
    phase(
      '  outside the committer (HTTP, auth, parse, answer)',
      rows.map((r) => r.rtt - r.s.runMs),
    );
    phase(
      'review sent → waiter has the answer',
      rows.map((r) => r.wake),
    );
    phase(
      '  COMMIT answered → waiter has the answer',
      rows.map((r) => r.wakeFromCommit),
    );
    return out;
  } finally {
    await gw.close();
    await db.drop();
  }
}

const loadAvg = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

const report: string[] = [];
for (const dialect of DBS) report.push(...(await measure(dialect)));
console.log(report.join('\n'));
process.exit(0);
