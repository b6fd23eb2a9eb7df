/**
 * Teams channel latency against the local Bot Framework stand-in (packages/countersign/test/teams-standin.ts):
 * an in-process gateway (real clock) with the `teams` consumer, two linked approvers and a channel route.
 *
 *   (a) pending action → the Bot Connector POST of its card: from the proposal's 201 to the last of its
 *       card posts reaching the stand-in (issue 17's figure, target p99 ≤ 1 s);
 *   (b) a decision anywhere (the API) → every card of that action updated (PUT): from the review's 200 to
 *       the last PUT (target p99 ≤ 2 s).
 *
 *   node --import tsx bench/teams.ts            (BENCH_ACTIONS=200, BENCH_DIALECT=sqlite|postgres)
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
    const posted: number[] = [];
    const updated: number[] = [];
    for (let i = 0; i < N; i++) {
      const t0 = performance.now();
      const { id } = await post('/v1/actions', agent.apiKey, { tool: 'deploy', arguments: { env: 'production', i } });
      const mine = () => standin.calls.filter((c) => c.method === 'POST' && c.status === 201 && JSON.stringify(c.body).includes(id));
      await waitFor(() => mine().length === CARDS_PER_ACTION);
      posted.push(Math.max(...mine().map((c) => c.at)) - t0);
      const t1 = performance.now();
      await post(`/v1/actions/${id}/reviews`, ada, { decision: 'approve' });
      const puts = () => standin.calls.filter((c) => c.method === 'PUT' && c.status === 200 && JSON.stringify(c.body).includes(id));
      await waitFor(() => puts().length === CARDS_PER_ACTION);
      updated.push(Math.max(...puts().map((c) => c.at)) - t1);
    }
    const fmt = (xs: number[]) =>
      `p50 ${percentile(xs, 50).toFixed(1)} ms, p99 ${percentile(xs, 99).toFixed(1)} ms, max ${Math.max(...xs).toFixed(1)} ms`;
    console.log(`Teams channel, ${DIALECT}, ${N} actions, ${CARDS_PER_ACTION} cards each (2 personal chats + 1 channel), one gateway:`);
    console.log(`  (a) pending action → last card POSTed to the Bot Connector: ${fmt(posted)} (target p99 ≤ 1000 ms)`);
    console.log(`  (b) API decision → every card updated (PUT):             ${fmt(updated)} (target p99 ≤ 2000 ms)`);
  } finally {
    await gw.close();
    await standin.close();
    await bench.drop();
  }
}

await main();
