/**
 * Teams channel latency against the local Bot Framework stand-in (packages/countersign/test/teams-standin.ts):
 * an in-process gateway (real clock) with the `teams` consumer, two linked approvers and a channel route.
 *
 *   (a) pending action → the Bot Connector POST of its card: from the proposal's 201 to the last of its
 *       card posts reaching the stand-in (issue 17's figure, target p99 ≤ 1 s);
 *   (b) a decision anywhere (the API) → every card of that action updated (PUT): from the review's 200 to
 *       the last PUT (target p99 ≤ 2 s).
 *
 * Each over BENCH_ACTIONS actions one after another, then in bursts of BENCH_BURST (default 20) at once.
 *
 *   node --import tsx bench/teams.ts            (BENCH_ACTIONS=200, BENCH_BURST=20, BENCH_DIALECT=sqlite|postgres)
 */
import pino from 'pino';
import { addAgent } from '../packages/countersign/src/domain/identities/add-agent.js';
import { addUser } from '../packages/countersign/src/domain/identities/add-user.js';
import { startGateway } from '../packages/countersign/src/gateway.js';
import { activity, linkTeams, TEAMS_PEOPLE as P, toBot, withTeams } from '../packages/countersign/test/teams-helpers.js';
import { TeamsStandIn } from '../packages/countersign/test/teams-standin.js';
import { benchDatabase } from './bench-database.js';
import { percentile } from './latency.js';

const N = Number(process.env.BENCH_ACTIONS ?? 200);
const DIALECT = process.env.BENCH_DIALECT ?? 'sqlite';
const BURST = Number(process.env.BENCH_BURST ?? 20);
const ADMIN = { type: 'admin' as const, id: 'bench' };
const CARDS_PER_ACTION = 3; // alice's chat, carol's chat, the channel

async function waitFor(check: () => boolean): Promise<void> {
  const until = performance.now() + 10_000;
  while (!check() && performance.now() < until) await new Promise((r) => setTimeout(r, 1));
  if (!check()) throw new Error('timed out');
}

async function main(): Promise<void> {
  const bench = benchDatabase(DIALECT, 'teams');
  const schema = bench.schema;
  const standin = new TeamsStandIn();
  await standin.start();
  const base = bench.config;
  const config = withTeams(standin)(base);
  const gw = await startGateway(config, { listen: false, logger: pino({ level: 'silent' }), ...(schema ? { schema } : {}) });
  const w = { gw } as Parameters<typeof linkTeams>[0];
  try {
    for (const email of ['alice@example.com', 'carol@example.com', 'ada@example.com']) {
      await addUser(gw.deps, ADMIN, { email, role: email.startsWith('ada') ? 'admin' : 'reviewer' });
    }
    await addUser(gw.deps, ADMIN, { email: 'bob@example.com', role: 'reviewer' });
    const agent = await addAgent(gw.deps, ADMIN, { name: 'deployer', owner: 'bob@example.com' });
    const ada = (await addUser(gw.deps, ADMIN, { email: 'admin2@example.com', role: 'admin' })).apiKey;
    for (const p of [P.alice, P.carol]) {
      await linkTeams(w, p);
      await toBot(w, standin, activity(standin, p, { type: 'conversationUpdate' }));
    }
    await toBot(
      w,
      standin,
      activity(standin, P.alice, { type: 'conversationUpdate' }, { id: '19:review-channel@thread.tacv2', type: 'channel' }),
    );
    const post = async (url: string, key: string, body: unknown) => {
      const res = await gw.app.inject({
        method: 'POST',
        url,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        payload: JSON.stringify(body),
      });
      if (res.statusCode >= 300) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
      return JSON.parse(res.body) as { id: string };
    };
    // Each action's Connector calls as the stand-in records them, indexed once per call (the console URL names the action).
    const calls = { scanned: 0, posts: new Map<string, number[]>(), puts: new Map<string, number[]>() };
    const index = () => {
      for (; calls.scanned < standin.calls.length; calls.scanned++) {
        const c = standin.calls[calls.scanned];
        const id = c && /\/actions\/([0-9a-f-]{36})/.exec(JSON.stringify(c.body))?.[1];
        if (!c || !id) continue;
        const into = c.method === 'POST' && c.status === 201 ? calls.posts : c.method === 'PUT' && c.status === 200 ? calls.puts : null;
        into?.set(id, [...(into.get(id) ?? []), c.at]);
      }
    };
    const count = (m: Map<string, number[]>, id: string) => {
      index();
      return m.get(id)?.length ?? 0;
    };
    /** One action: proposed, its three cards posted, approved over the API, its three cards updated. */
    const one = async (i: number) => {
      const t0 = performance.now();
      const { id } = await post('/v1/actions', agent.apiKey, { tool: 'deploy', arguments: { env: 'production', i } });
      await waitFor(() => count(calls.posts, id) === CARDS_PER_ACTION);
      const posted = Math.max(...(calls.posts.get(id) ?? [])) - t0;
      const t1 = performance.now();
      await post(`/v1/actions/${id}/reviews`, ada, { decision: 'approve' });
      await waitFor(() => count(calls.puts, id) === CARDS_PER_ACTION);
      return { posted, updated: Math.max(...(calls.puts.get(id) ?? [])) - t1 };
    };
    const fmt = (xs: number[]) =>
      `p50 ${percentile(xs, 50).toFixed(1)} ms, p99 ${percentile(xs, 99).toFixed(1)} ms, max ${Math.max(...xs).toFixed(1)} ms`;
    const report = (label: string, xs: { posted: number; updated: number }[]) => {
      console.log(
        `Teams channel, ${DIALECT}, ${label}: ${xs.length} actions, ${CARDS_PER_ACTION} cards each (2 personal chats + 1 channel), one gateway:`,
      );
      console.log(`  (a) pending action → last card POSTed to the Bot Connector: ${fmt(xs.map((x) => x.posted))} (target p99 ≤ 1000 ms)`);
      console.log(`  (b) API decision → every card updated (PUT):             ${fmt(xs.map((x) => x.updated))} (target p99 ≤ 2000 ms)`);
    };
    const sequential = [];
    for (let i = 0; i < N; i++) sequential.push(await one(i));
    report('one after another', sequential);
    const bursts = [];
    for (let i = 0; i < N; i += BURST) {
      bursts.push(...(await Promise.all(Array.from({ length: Math.min(BURST, N - i) }, (_, j) => one(N + i + j)))));
    }
    report(`bursts of ${BURST} at once`, bursts);
  } finally {
    await gw.close();
    await standin.close();
    await bench.drop();
  }
}

await main();
