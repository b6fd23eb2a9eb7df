/**
 * Slack channel benchmark against the local Slack stand-in (test/slack-standin.ts, which checks every
 * call as Slack would): an in-process gateway (SQLite, or PostgreSQL with BENCH_SLACK_DIALECT=postgres)
 * with the Slack channel on, routing every action to three channels.
 *
 *   node --import tsx bench/slack.ts          (npm run bench:slack)
 *
 * Two figures, each over BENCH_SLACK_N actions (default 300), proposed one after another and then in
 * bursts of BENCH_SLACK_BURST (default 20) at once:
 *   - pending action → Slack API call: from sending the proposal to the stand-in answering the action's
 *     first chat.postMessage (target p99 ≤ 1 s), and to its last (all three channels);
 *   - decision anywhere → all messages updated: from sending a deny over the API to the stand-in
 *     answering the last chat.update of the action's three messages (target p99 ≤ 2 s).
 * The consumer runs as in production: woken by the bus on commit, no test ticks.
 */
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { addAgent } from '../packages/countersign/src/domain/identities/add-agent.js';
import { addUser } from '../packages/countersign/src/domain/identities/add-user.js';
import { type Gateway, startGateway } from '../packages/countersign/src/gateway.js';
import { withSlack } from '../packages/countersign/test/slack-helpers.js';
import { SlackStandIn } from '../packages/countersign/test/slack-standin.js';
import { benchDatabase } from './bench-database.js';
import { percentile } from './latency.js';

const N = Number(process.env.BENCH_SLACK_N ?? 300);
const BURST = Number(process.env.BENCH_SLACK_BURST ?? 20);
const DIALECT = process.env.BENCH_SLACK_DIALECT ?? 'sqlite';
const CHANNELS = ['C0BENCHA', 'C0BENCHB', 'C0BENCHC'];
const ADMIN = { type: 'admin' as const, id: 'bench' };

interface Keys {
  agent: string;
  reviewer: string;
}

async function post(gw: Gateway, url: string, key: string, body: unknown): Promise<{ status: number; body: { id: string } }> {
  const r = await gw.app.inject({
    method: 'POST',
    url,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    payload: body as object,
  });
  return { status: r.statusCode, body: JSON.parse(r.body) };
}

/** Each action's calls as the stand-in answers them: posts by action id, updates by ts (indexed once per call). */
class Index {
  readonly posts = new Map<string, number[]>();
  readonly updates = new Map<string, number>();
  private readonly waiting = new Set<() => void>();

  constructor(slack: SlackStandIn) {
    slack.listeners.add((c) => {
      if (!c.ok) return;
      if (c.method === 'chat.postMessage' && c.args.thread_ts === undefined) {
        const id = /"value":"([0-9a-f-]{36})"/.exec(JSON.stringify(c.args.blocks))?.[1];
        if (id) this.posts.set(id, [...(this.posts.get(id) ?? []), c.at]);
      }
      if (c.method === 'chat.update') this.updates.set(String(c.args.ts), c.at);
      for (const w of this.waiting) w();
    });
  }

  until(check: () => boolean): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve) => {
      const w = () => {
        if (!check()) return;
        this.waiting.delete(w);
        resolve();
      };
      this.waiting.add(w);
    });
  }
}

/** One action through the channel: proposed, posted to every channel, denied over the API, every message updated. */
interface Timing {
  first: number;
  /** From the proposal's 201 (the action committed pending) to the first post: the channel's own part. */
  afterAnswer: number;
  all: number;
  update: number;
}

async function one(gw: Gateway, idx: Index, keys: Keys, i: number): Promise<Timing> {
  const t0 = performance.now();
  const res = await post(gw, '/v1/actions', keys.agent, { tool: 'deploy', arguments: { env: 'staging', i }, purpose: 'bench' });
  if (res.status !== 201) throw new Error(`propose: ${res.status}`);
  const answered = performance.now();
  const id = res.body.id;
  await idx.until(() => (idx.posts.get(id)?.length ?? 0) === CHANNELS.length);
  const at = idx.posts.get(id) ?? [];
  // The gateway records each message just after Slack answers: wait for the records before deciding.
  let rows: { ts: string }[] = [];
  for (;;) {
    rows = await gw.deps.db.read.selectFrom('slack_messages').select(['ts']).where('action_id', '=', id).execute();
    if (rows.length === CHANNELS.length) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const t1 = performance.now();
  const denied = await post(gw, `/v1/actions/${id}/reviews`, keys.reviewer, { decision: 'deny', reason: 'bench' });
  if (denied.status !== 200) throw new Error(`deny: ${denied.status}`);
  await idx.until(() => rows.every((r) => idx.updates.has(r.ts)));
  return {
    first: Math.min(...at) - t0,
    afterAnswer: Math.min(...at) - answered,
    all: Math.max(...at) - t0,
    update: Math.max(...rows.map((r) => idx.updates.get(r.ts) ?? 0)) - t1,
  };
}

function report(label: string, xs: Timing[]): void {
  const row = (name: string, v: number[], target?: number) =>
    `  ${name.padEnd(34)} p50 ${percentile(v, 50).toFixed(1).padStart(7)} ms  p99 ${percentile(v, 99).toFixed(1).padStart(7)} ms  max ${Math.max(
      ...v,
    )
      .toFixed(1)
      .padStart(7)} ms${target ? `  (target p99 ≤ ${target} ms: ${percentile(v, 99) <= target ? 'met' : 'MISSED'})` : ''}`;
  console.log(`${label} (${xs.length} actions, ${CHANNELS.length} messages each)`);
  console.log(
    row(
      'pending → first chat.postMessage',
      xs.map((x) => x.first),
      1000,
    ),
  );
  console.log(
    row(
      '  of which after the proposal’s 201',
      xs.map((x) => x.afterAnswer),
    ),
  );
  console.log(
    row(
      'pending → all three posted',
      xs.map((x) => x.all),
    ),
  );
  console.log(
    row(
      'decision → all messages updated',
      xs.map((x) => x.update),
      2000,
    ),
  );
}

async function main(): Promise<void> {
  const bench = benchDatabase(DIALECT, 'slack');
  const schema = bench.schema;
  const slack = new SlackStandIn();
  await slack.start();
  const base = bench.config;
  const routes = [{ workflow: '*', events: ['asked'], to: CHANNELS.map((channel) => ({ kind: 'slack', channel })) }];
  const config = withSlack(slack, {}, {}, routes)(base);
  const gw = await startGateway(config, { listen: false, logger: pino({ level: 'silent' }), ...(schema ? { schema } : {}) });
  try {
    const reviewer = await addUser(gw.deps, ADMIN, { email: 'reviewer@example.com', role: 'reviewer' });
    await addUser(gw.deps, ADMIN, { email: 'owner@example.com', role: 'reviewer' });
    const agent = await addAgent(gw.deps, ADMIN, { name: 'bench-agent', owner: 'owner@example.com' });
    const keys = { agent: agent.apiKey, reviewer: reviewer.apiKey };
    const idx = new Index(slack);
    for (let i = 0; i < 10; i++) await one(gw, idx, keys, -i - 1); // warm-up
    const sequential = [];
    for (let i = 0; i < N; i++) sequential.push(await one(gw, idx, keys, i));
    report(`sequential, ${DIALECT}`, sequential);
    const bursts = [];
    for (let i = 0; i < N; i += BURST) {
      bursts.push(...(await Promise.all(Array.from({ length: Math.min(BURST, N - i) }, (_, j) => one(gw, idx, keys, N + i + j)))));
    }
    report(`bursts of ${BURST} at once, ${DIALECT}`, bursts);
    console.log(
      `load average at the end: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')} (${cpus().length} cores)`,
    );
    const failed = slack.calls.filter((c) => !c.ok);
    console.log(`stand-in: ${slack.calls.length} calls, ${failed.length} refused${failed.length ? ` (${failed[0]?.error})` : ''}`);
  } finally {
    await gw.close();
    await slack.close();
    await bench.drop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
