/**
 * Durable consumer lag under the core benchmark's write rate. A PostgreSQL gateway runs in its own
 * process (bench/server.ts, as in core.ts) with its built-in `decision-metrics` consumer; autocannon drives
 * auto-approved submissions (the core benchmark's throughput load, 50 connections) for BENCH_DURATION s.
 * Meanwhile this process samples, every 10 ms, how long the oldest event the consumer has not passed
 * has waited since its commit (0 when caught up) — the lag an operator sees in
 * `GET /v1/admin/consumers` — and after the run reads the gateway's per-batch lag histogram
 * (`countersign_event_consumer_lag_seconds`: commit of a batch's last event → batch handled).
 *
 *   node --import tsx bench/consumer-lag.ts
 */
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import pg from 'pg';
import { killAll, startServer } from './child.js';
import { percentile } from './latency.js';

const PG_URL = process.env.COUNTERSIGN_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const SAMPLE_MS = 10;
const TARGET_P99_MS = 1000;
const CONSUMER = 'decision-metrics';

const PROPOSAL = JSON.stringify({
  tool: 'read_file',
  arguments: { path: '/srv/app/README.md', encoding: 'utf8' },
  purpose: 'consumer lag benchmark',
  annotations: { readOnlyHint: true },
});

async function main(): Promise<void> {
  const schema = `cs_bench_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  const server = await startServer('postgres', { schema });
  const samples: number[] = [];
  let sampling = true;
  try {
    // Let the consumer register and take its lease.
    for (let i = 0; i < 100; i++) {
      const r = await admin.query(`select 1 from ${schema}.event_consumers where name = $1 and lease_owner is not null`, [CONSUMER]);
      if (r.rowCount) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    const sampler = (async () => {
      while (sampling) {
        const r = await admin.query<{ ts: string | null }>(
          `select (select ts from ${schema}.events e where e.seq > c.cursor order by e.seq limit 1) as ts from ${schema}.event_consumers c where c.name = $1`,
          [CONSUMER],
        );
        const ts = r.rows[0]?.ts;
        samples.push(ts == null ? 0 : Math.max(0, Date.now() - Number(ts)));
        await new Promise((res) => setTimeout(res, SAMPLE_MS));
      }
    })();
    const result = await autocannon({
      url: `${server.url}/v1/actions`,
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${server.keys.agent}` },
      body: PROPOSAL,
      connections: CONNECTIONS,
      duration: DURATION_S,
      timeout: 10,
    });
    // Caught up after the load stops?
    let drainMs = 0;
    const t0 = Date.now();
    for (;;) {
      const r = await admin.query<{ behind: string }>(
        `select (select event_seq from ${schema}.chain_head where id = 1) - cursor as behind from ${schema}.event_consumers where name = $1`,
        [CONSUMER],
      );
      if (Number(r.rows[0]?.behind ?? 1) === 0) break;
      if (Date.now() - t0 > 30_000) throw new Error('the consumer did not catch up within 30 s of the load stopping');
      await new Promise((res) => setTimeout(res, 5));
    }
    drainMs = Date.now() - t0;
    sampling = false;
    await sampler;
    const events = Number((await admin.query(`select event_seq from ${schema}.chain_head`)).rows[0].event_seq);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const batches = histogram(metrics, 'countersign_event_consumer_lag_seconds', CONSUMER);
    samples.sort((a, b) => a - b);
    const p50 = percentile(samples, 50);
    const p99 = percentile(samples, 99);
    const ok = result.non2xx === 0 && result.errors === 0;
    console.log(`\nconsumer lag, PostgreSQL, ${CONNECTIONS} connections, ${DURATION_S} s of auto-approved submissions`);
    console.log(
      `  write rate            ${Math.round(result.requests.average)} req/s (${events} events, ${Math.round(events / DURATION_S)} events/s)`,
    );
    console.log(`  sampled lag (oldest unhandled event's age, every ${SAMPLE_MS} ms, n=${samples.length})`);
    console.log(
      `    p50 ${p50.toFixed(0)} ms   p99 ${p99.toFixed(0)} ms   max ${samples.at(-1)?.toFixed(0)} ms   target p99 <= ${TARGET_P99_MS} ms`,
    );
    console.log(
      `  per-batch lag (gateway histogram, n=${batches.count}): p50 <= ${batches.quantile(0.5)} s, p99 <= ${batches.quantile(0.99)} s`,
    );
    console.log(`  caught up ${drainMs} ms after the load stopped`);
    console.log(`  kept up: ${p99 <= TARGET_P99_MS ? 'yes' : 'NO'}${ok ? '' : '  (non-2xx or errors during the load!)'}`);
    if (!ok || p99 > TARGET_P99_MS) process.exitCode = 1;
  } finally {
    sampling = false;
    await server.stop();
    await admin.query(`drop schema if exists ${schema} cascade`);
    await admin.end();
  }
}

/** Reads a Prometheus histogram's buckets for one consumer; quantile() answers the bucket bound it falls under. */
function histogram(text: string, name: string, consumer: string) {
  const buckets: { le: number; n: number }[] = [];
  let count = 0;
  for (const line of text.split('\n')) {
    if (!line.includes(`consumer="${consumer}"`)) continue;
    const b = line.match(new RegExp(`^${name}_bucket\\{.*le="([^"]+)".*\\} (\\d+)`));
    if (b) buckets.push({ le: b[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(b[1]), n: Number(b[2]) });
    const c = line.match(new RegExp(`^${name}_count\\{.*\\} (\\d+)`));
    if (c) count = Number(c[1]);
  }
  return { count, quantile: (q: number) => buckets.find((b) => b.n >= q * count)?.le ?? Number.NaN };
}

process.on('exit', killAll);
await main();
