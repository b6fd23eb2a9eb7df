/**
 * What tracing costs a proposal: the same auto-approved proposals (POST /v1/actions?redeem=true, with a
 * `traceparent`, 32 in flight, in-process through Fastify inject) on two SQLite gateways, one with no
 * OpenTelemetry SDK (tracing off: the API's no-op, one boolean test per request) and one recording every
 * span with the SDK (BasicTracerProvider, SimpleSpanProcessor, in-memory exporter). Rounds alternate
 * between them so load from elsewhere hits both alike. Prints proposals per second; asserts nothing.
 *
 *   node --import tsx bench/tracing-overhead.ts
 *   BENCH_TRACING_N=4000 BENCH_TRACING_ROUNDS=5 node --import tsx bench/tracing-overhead.ts
 */
import { performance } from 'node:perf_hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import pino from 'pino';
import { addAgent } from '../packages/countersign/src/domain/identities/add-agent.js';
import { addUser } from '../packages/countersign/src/domain/identities/add-user.js';
import { type Gateway, startGateway } from '../packages/countersign/src/gateway.js';
import { benchDatabase } from './bench-database.js';

const N = Number(process.env.BENCH_TRACING_N ?? 2000);
const ROUNDS = Number(process.env.BENCH_TRACING_ROUNDS ?? 4);
const IN_FLIGHT = 32;
const ADMIN = { type: 'admin' as const, id: 'bench' };
const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

async function gateway(name: string, traced: boolean) {
  const bench = benchDatabase('sqlite', name);
  const exporter = new InMemorySpanExporter();
  const provider = traced ? new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }) : undefined;
  const config = { ...bench.config, policy: { ...bench.config.policy, trust_annotations: ['bench-agent'] } };
  const gw = await startGateway(config, {
    listen: false,
    logger: pino({ level: 'silent' }),
    ...(provider ? { tracerProvider: provider } : {}),
  });
  await addUser(gw.deps, ADMIN, { email: 'owner@example.com', role: 'reviewer' });
  const { apiKey } = await addAgent(gw.deps, ADMIN, { name: 'bench-agent', owner: 'owner@example.com' });
  return { gw, apiKey, exporter, bench };
}

async function round(gw: Gateway, key: string, offset: number): Promise<number> {
  let next = 0;
  const t = performance.now();
  const worker = async () => {
    while (next < N) {
      const i = next++;
      const r = await gw.app.inject({
        method: 'POST',
        url: '/v1/actions?redeem=true',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', traceparent: TRACEPARENT },
        payload: JSON.stringify({ tool: 'read_logs', arguments: { n: offset + i }, annotations: { readOnlyHint: true } }),
      });
      if (r.statusCode !== 201) throw new Error(`${r.statusCode} ${r.body}`);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return N / ((performance.now() - t) / 1000);
}

const off = await gateway('tracing-off', false);
const on = await gateway('tracing-on', true);
try {
  const rates: { off: number[]; on: number[] } = { off: [], on: [] };
  await round(off.gw, off.apiKey, -N); // warm-up, both
  await round(on.gw, on.apiKey, -N);
  for (let r = 0; r < ROUNDS; r++) {
    rates.off.push(await round(off.gw, off.apiKey, r * N));
    rates.on.push(await round(on.gw, on.apiKey, r * N));
    on.exporter.reset();
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ');
  process.stdout.write(`proposals/s, tracing off (no SDK):      median ${median(rates.off).toFixed(0)} (${fmt(rates.off)})\n`);
  process.stdout.write(`proposals/s, tracing on (SDK, 4 spans): median ${median(rates.on).toFixed(0)} (${fmt(rates.on)})\n`);
} finally {
  await off.gw.close();
  await on.gw.close();
  await off.bench.drop();
  await on.bench.drop();
}
