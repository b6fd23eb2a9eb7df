/**
 * Soak (issue 18): a steady mixed load at a fixed rate, not maximum throughput, for BENCH_SOAK_MINUTES
 * (default 30) on each dialect, sampling the gateway child's RSS and event-loop delay every 10 s.
 *
 * The mix, per 10 proposals: 5 read-only calls the policy approves at once; 5 that wait for a person. Each
 * of those the agent long-polls, and a reviewer (not the agent's owner) decides it after a short delay:
 * 4 approved, 1 denied. A few SSE clients follow the whole stream as the reviewer and reconnect now and
 * then with Last-Event-ID. Figures are printed, never asserted: the run exits non-zero only on errors (an
 * unexpected status, a timeout, a long-poll answering the wrong decision, an SSE id going backwards, or the
 * database holding a different number of actions than were created).
 *
 *   npm run bench:soak
 *   BENCH_SOAK_MINUTES=3 BENCH_DIALECTS=sqlite,postgres npm run bench:soak
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { killAll, type ServerHandle, startServer } from './child.js';
import { onSseFrames, type Reply, request as send } from './http-request.js';
import { percentile } from './latency.js';

const MINUTES = Number(process.env.BENCH_SOAK_MINUTES ?? 30);
const RATE = Number(process.env.BENCH_SOAK_RATE ?? 50);
const SSE_CLIENTS = Number(process.env.BENCH_SOAK_SSE ?? 4);
const SSE_RECONNECT_MS = Number(process.env.BENCH_SOAK_SSE_RECONNECT_SECONDS ?? 60) * 1000;
const REVIEW_DELAY_MS = Number(process.env.BENCH_SOAK_REVIEW_DELAY_MS ?? 200);
const SAMPLE_MS = 10_000;
const DIALECTS = (process.env.BENCH_DIALECTS ?? 'sqlite,postgres').split(',') as ('sqlite' | 'postgres')[];
const PG_URL = process.env.COUNTERSIGN_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REQUEST_TIMEOUT_MS = 35_000;

const request = (agent: http.Agent, base: URL, method: 'GET' | 'POST', path: string, key?: string, body?: unknown): Promise<Reply> =>
  send(agent, base, method, path, key, body, REQUEST_TIMEOUT_MS);
for (const d of DIALECTS) if (d !== 'sqlite' && d !== 'postgres') throw new Error(`unknown dialect ${d}`);

type Kind = 'propose' | 'review' | 'long-poll' | 'sse-connect' | 'metrics';

interface Sample {
  atS: number;
  rss: number;
  loopP99Ms: number;
  waiters: number;
  proposals: number;
}

interface Outcome {
  dialect: string;
  samples: Sample[];
  requests: Record<Kind, number>;
  sseEvents: number;
  sseReconnects: number;
  errors: string[];
  errorCount: number;
}

/** One SSE client: follows every event the reviewer may see and reconnects every SSE_RECONNECT_MS with Last-Event-ID. */
function sseClient(base: URL, key: string, o: Outcome, fail: (m: string) => void, stopped: () => boolean): Promise<void> {
  let lastId: number | undefined;
  const connectOnce = () =>
    new Promise<void>((resolve) => {
      o.requests['sse-connect'] += 1;
      const req = http.request(
        {
          agent: false,
          host: base.hostname,
          port: base.port,
          path: '/v1/events',
          headers: {
            authorization: `Bearer ${key}`,
            accept: 'text/event-stream',
            ...(lastId !== undefined ? { 'last-event-id': String(lastId) } : {}),
          },
        },
        (res) => {
          if (res.statusCode !== 200) {
            fail(`SSE: HTTP ${res.statusCode}`);
            res.resume();
            resolve();
            return;
          }
          onSseFrames(res, ({ id, event: type }) => {
            if (type === 'reset') fail('SSE: reset on resume (events were lost to retention)');
            if (id === undefined) return;
            const n = Number(id);
            // An id-only message marks "now"; an event's id must move strictly forward, across reconnects too.
            if (type !== undefined) {
              if (lastId !== undefined && n <= lastId) fail(`SSE: id ${n} after ${lastId}`);
              o.sseEvents += 1;
            }
            lastId = n;
          });
          res.on('error', () => resolve());
          res.on('end', () => {
            if (!stopped()) fail('SSE: the gateway ended the stream');
            resolve();
          });
        },
      );
      req.on('error', (e) => {
        if (!stopped()) fail(`SSE: ${e.message}`);
        resolve();
      });
      req.end();
      const t = setTimeout(() => req.destroy(), SSE_RECONNECT_MS);
      t.unref();
      const check = setInterval(() => {
        if (stopped()) req.destroy();
      }, 500);
      req.on('close', () => {
        clearTimeout(t);
        clearInterval(check);
      });
    });
  return (async () => {
    while (!stopped()) {
      await connectOnce();
      if (!stopped()) o.sseReconnects += 1;
    }
  })();
}

/** A failed request names its step in the error the run reports. */
function labelled<T>(step: string, p: Promise<T>): Promise<T> {
  return p.catch((e: Error) => {
    throw new Error(`${step}: ${e.message}`);
  });
}

/** Resident set of the gateway child in bytes, from the kernel's own accounting. */
function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

function metric(body: string, name: string): number {
  const line = body.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : Number.NaN;
}

async function soak(dialect: 'sqlite' | 'postgres'): Promise<Outcome> {
  const schema = dialect === 'postgres' ? `cs_bench_${Math.random().toString(16).slice(2, 14)}` : undefined;
  const server: ServerHandle = await startServer(dialect, schema ? { schema } : {});
  const base = new URL(server.url);
  const o: Outcome = {
    dialect,
    samples: [],
    requests: { propose: 0, review: 0, 'long-poll': 0, 'sse-connect': 0, metrics: 0 },
    sseEvents: 0,
    sseReconnects: 0,
    errors: [],
    errorCount: 0,
  };
  const fail = (m: string) => {
    o.errorCount += 1;
    if (o.errors.length < 10) o.errors.push(m);
  };
  const proposer = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const reviewer = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const waiter = new http.Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
  const scraper = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let stop = false;
  let created = 0;
  const inFlight = new Set<Promise<void>>();

  /** One proposal and, for one that waits, its long-poll and its review. */
  const one = async (i: number) => {
    const readOnly = i % 10 < 5;
    const deny = i % 10 === 9;
    o.requests.propose += 1;
    const r = await labelled(
      'propose',
      request(proposer, base, 'POST', '/v1/actions', server.keys.agent, {
        tool: readOnly ? 'read_file' : 'deploy',
        arguments: { build: i },
        purpose: 'soak',
        ...(readOnly ? { annotations: { readOnlyHint: true } } : {}),
      }),
    );
    if (r.status !== 201) return fail(`propose: HTTP ${r.status} ${r.body.slice(0, 200)}`);
    created += 1;
    const view = JSON.parse(r.body) as { id: string; status: string };
    if (view.status !== (readOnly ? 'approved' : 'pending'))
      return fail(`propose: ${view.status} for a ${readOnly ? 'read-only' : 'deploy'} call`);
    if (readOnly) return;
    o.requests['long-poll'] += 1;
    // Settled at once into a value, so a long-poll that fails while the review is still on its way is an
    // error counted below, never an unhandled rejection that ends the run.
    const waited = request(waiter, base, 'GET', `/v1/actions/${view.id}?wait=30`, server.keys.agent).catch((e: Error) => e);
    await sleep(REVIEW_DELAY_MS);
    o.requests.review += 1;
    const rv = await labelled(
      'review',
      request(reviewer, base, 'POST', `/v1/actions/${view.id}/reviews`, server.keys.reviewer, {
        decision: deny ? 'deny' : 'approve',
        ...(deny ? { reason: 'soak: denied' } : {}),
      }),
    );
    if (rv.status !== 200) fail(`review: HTTP ${rv.status} ${rv.body.slice(0, 200)}`);
    const w = await waited;
    if (w instanceof Error) return fail(`long-poll: ${w.message}`);
    if (w.status !== 200) return fail(`long-poll: HTTP ${w.status}`);
    const got = (JSON.parse(w.body) as { status: string }).status;
    if (got !== (deny ? 'denied' : 'approved')) fail(`long-poll: ${got}, expected ${deny ? 'denied' : 'approved'}`);
  };

  const sse = Array.from({ length: SSE_CLIENTS }, () => sseClient(base, server.keys.reviewer, o, fail, () => stop));
  const t0 = performance.now();
  const endAt = t0 + MINUTES * 60_000;
  let issued = 0;
  let nextSample = t0 + SAMPLE_MS;
  const sample = async () => {
    o.requests.metrics += 1;
    const m = await request(scraper, base, 'GET', '/metrics');
    o.samples.push({
      atS: Math.round((performance.now() - t0) / 1000),
      rss: rssBytes(server.pid),
      loopP99Ms: metric(m.body, 'countersign_nodejs_eventloop_lag_p99_seconds') * 1000,
      waiters: metric(m.body, 'countersign_waiters{kind="long_poll"}') || 0,
      proposals: created,
    });
  };
  try {
    await sample();
    while (performance.now() < endAt) {
      // Fixed rate without drift: issue what is due since the start, whatever the last tick took.
      const due = Math.floor(((performance.now() - t0) / 1000) * RATE);
      for (; issued < due; issued++) {
        const p: Promise<void> = one(issued)
          .catch((e: Error) => fail(e.message))
          .finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      if (performance.now() >= nextSample) {
        nextSample += SAMPLE_MS;
        await sample().catch((e: Error) => fail(`metrics: ${e.message}`));
      }
      await sleep(20);
    }
    await Promise.all(inFlight);
    await sample();
    stop = true;
    await Promise.all(sse);
    const stats = await server.stats();
    // Every action the gateway answered 201 for must be in the database, and nothing else (no lost or doubled commits).
    if (stats.actions !== created) fail(`the database holds ${stats.actions} actions, ${created} were created`);
  } finally {
    stop = true;
    for (const a of [proposer, reviewer, waiter, scraper]) a.destroy();
    await server.stop().catch((e: Error) => fail(`stopping the gateway: ${e.message}`));
    if (schema) {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`drop schema if exists ${schema} cascade`);
      await c.end();
    }
  }
  return o;
}

const mb = (b: number) => (b / 1024 / 1024).toFixed(1);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/**
 * RSS growth: from the plateau after warm-up (5 minutes after the first minute, on the 30-minute run; the
 * same shares of a shorter run) to the end (mean of the last three samples), in %.
 */
function growth(samples: Sample[]): { plateau: number; end: number; pct: number } {
  const total = MINUTES * 60;
  const warm = Math.min(60, total * 0.2);
  const plateauEnd = warm + Math.min(300, total * 0.25);
  const plateau = mean(samples.filter((s) => s.atS >= warm && s.atS <= plateauEnd).map((s) => s.rss));
  const end = mean(samples.slice(-3).map((s) => s.rss));
  return { plateau, end, pct: ((end - plateau) / plateau) * 100 };
}

process.on('SIGINT', () => {
  killAll();
  process.exit(130);
});

let errors = 0;
const report: string[] = [];
for (const dialect of DIALECTS) {
  console.error(`soak: ${dialect}, ${MINUTES} min at ${RATE} proposals/s…`);
  let o: Outcome;
  try {
    o = await soak(dialect);
  } catch (e) {
    errors += 1;
    console.error(`FAILURE ${dialect}: ${(e as Error).stack ?? e}`);
    continue;
  }
  errors += o.errorCount;
  const g = growth(o.samples);
  const loop = o.samples.map((s) => s.loopP99Ms).filter((v) => Number.isFinite(v));
  report.push(
    `\n## ${dialect}: ${MINUTES} min at ${RATE} proposals/s, ${SSE_CLIENTS} SSE clients; load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  report.push('| t (s) | RSS MB | event-loop p99 ms | long-polls parked | actions created |', '| --- | --- | --- | --- | --- |');
  for (const s of o.samples) report.push(`| ${s.atS} | ${mb(s.rss)} | ${s.loopP99Ms.toFixed(1)} | ${s.waiters} | ${s.proposals} |`);
  report.push(
    `RSS growth: ${g.pct.toFixed(1)} % (plateau ${mb(g.plateau)} MB → end ${mb(g.end)} MB)`,
    `event-loop p99 (per 10 s window): median ${percentile(loop, 50).toFixed(1)} ms, worst ${Math.max(...loop).toFixed(1)} ms`,
    `requests: ${Object.entries(o.requests)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}; SSE events received ${o.sseEvents}, reconnects ${o.sseReconnects}`,
    `errors: ${o.errorCount}${o.errors.length ? `\n  ${o.errors.join('\n  ')}` : ''}`,
  );
  console.error(report.slice(-4).join('\n'));
}
console.log(report.join('\n'));
process.exit(errors > 0 ? 1 : 0);
