/*
 * Several nodes, one database: three `countersign serve` processes on one PostgreSQL schema behind a real
 * HAProxy running the shipped deploy/haproxy.cfg. Agents (through @countersign/sdk), reviewers, long-poll
 * waiters, event-stream followers and the MCP proxy know one URL: the balancer's. One node is SIGKILLed
 * mid-load; what every client was told is then held against the database.
 * PostgreSQL only: SQLite is one file on one host, so it has no second node to balance to.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createClient } from '@countersign/sdk';
import type { Client as McpClient } from '@modelcontextprotocol/client';
import pg from 'pg';
import pino from 'pino';
import { stringify } from 'yaml';
import { loadConfig } from '../src/config/load.js';
import { closeDeps, createDeps, type Deps } from '../src/deps.js';
import { addAgent } from '../src/domain/identities/add-agent.js';
import { addUser } from '../src/domain/identities/add-user.js';
import { type Balancer, metric, type Node, requireHaproxy, signal, startBalancer, startNode } from './balancer-helpers.js';
import { follow, newTally, review, runAgents, type Tally } from './balancer-load.js';
import { balancerRetries, verdict } from './balancer-verdict.js';
import { childEnv } from './cli-serve-helpers.js';
import { ADMIN, PG_URL, runCli } from './helpers.js';
import { connectStdio, MEMORY_SERVER, textOf } from './mcp-helpers.js';

const POLICY = {
  policy: { default: 'review', rules: [{ name: 'reads-pass', when: 'tool == "read_logs"', effect: 'allow' }] },
  workflows: { default: { stages: [{ approvers: { roles: ['reviewer'] } }] } },
};
const WORKERS = 8;
const CALLS_PER_WORKER = 10;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`never happened: ${what}`);
    await sleep(20);
  }
}

describe('three gateways on one PostgreSQL behind HAProxy', { timeout: 90_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'cs-balancer-'));
  const schema = `cs_lb_${randomBytes(5).toString('hex')}`;
  const dbUrl = `${PG_URL}${PG_URL.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const keys = { alice: '', carol: '', watcher: '', agentA: '', agentB: '', mcp: '' };
  let deps: Deps | undefined;
  let nodes: Node[] = [];
  let lb: Balancer | undefined;
  const t: Tally = newTally();
  const killed = { ackedBefore: 0, longPolls: 0, streams: 0 };
  let startup = 0;
  // Ended by after() too, so a failed assertion never leaves a client reconnecting forever.
  const stopStreams = new AbortController();
  let stopReviews = false;

  before(async () => {
    const t0 = Date.now();
    const haproxy = requireHaproxy();
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`create schema ${schema}`);
    await c.end();
    const cfg = join(dir, 'countersign.yaml');
    writeFileSync(cfg, stringify(POLICY));
    // The nodes migrate (one at a time, under PostgreSQL's advisory lock) and seed the policy while the
    // operator's side, as the admin CLI does it, adds people and agents.
    const starting = Promise.allSettled(
      ['node1', 'node2', 'node3'].map((name) => {
        mkdirSync(join(dir, name));
        return startNode(name, ['--data', join(dir, name), '--config', cfg], { COUNTERSIGN_DATABASE_URL: dbUrl });
      }),
    );
    try {
      mkdirSync(join(dir, 'admin'));
      const config = loadConfig({ env: {}, overrides: { dataDir: join(dir, 'admin'), databaseUrl: PG_URL } });
      deps = await createDeps(config, { schema, logger: pino({ level: 'silent' }) });
      const user = async (email: string, role: 'reviewer' | 'viewer') => (await addUser(deps as Deps, ADMIN, { email, role })).apiKey;
      keys.alice = await user('alice@example.com', 'reviewer');
      keys.carol = await user('carol@example.com', 'reviewer');
      keys.watcher = await user('watcher@example.com', 'viewer');
      await user('owner@example.com', 'viewer');
      const agent = async (name: string) => (await addAgent(deps as Deps, ADMIN, { name, owner: 'owner@example.com' })).apiKey;
      keys.agentA = await agent('agent-a');
      keys.agentB = await agent('agent-b');
      keys.mcp = await agent('mcp-agent');
    } finally {
      // Whichever node started is stopped by after(), whatever failed here.
      nodes = (await starting).flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    }
    for (const r of await starting) if (r.status === 'rejected') throw r.reason;
    lb = await startBalancer(haproxy, nodes);
    startup = Date.now() - t0;
  });

  after(async () => {
    stopStreams.abort();
    stopReviews = true;
    await signal(lb?.proc, 'SIGTERM');
    await Promise.all(nodes.map((n) => signal(n.proc, 'SIGTERM')));
    if (deps) await closeDeps(deps);
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`drop schema if exists ${schema} cascade`);
    await c.end();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a node SIGKILLed mid-load loses no acknowledged action, runs none twice, and every waiter is answered', async () => {
    const t1 = Date.now();
    const url = (lb as Balancer).url;
    const d = deps as Deps;
    const head = Number((await d.db.read.selectFrom('chain_head').select('event_seq').executeTakeFirstOrThrow()).event_seq);
    const followers = [follow(url, keys.agentA, head, stopStreams.signal), follow(url, keys.agentB, head, stopStreams.signal)];
    // Two reviewers, each deciding half of what is pending, through the balancer like everyone else.
    const reviewers = [review(url, keys.alice, t, () => stopReviews, 0), review(url, keys.carol, t, () => stopReviews, 1)];
    const load = runAgents(
      { url, agentKeys: [keys.agentA, keys.agentB], watcherKey: keys.watcher, workers: WORKERS, callsPerWorker: CALLS_PER_WORKER },
      t,
    );

    // Mid-load: a third of the proposals acknowledged, and node1 holding long-polls and event streams.
    const [victim] = nodes as [Node];
    await until(
      'node1 holds waiters of both kinds mid-load',
      async () => {
        if (t.acknowledged.size < (WORKERS * CALLS_PER_WORKER) / 3) return false;
        killed.longPolls = await metric(victim.url, 'countersign_waiters', 'kind="long_poll"');
        killed.streams = await metric(victim.url, 'countersign_waiters', 'kind="sse"');
        return killed.longPolls > 0 && killed.streams > 0;
      },
      20_000,
    );
    killed.ackedBefore = t.acknowledged.size;
    await signal(victim.proc, 'SIGKILL');
    const killedAt = Date.now() - t1;

    await load.done;
    await Promise.all(load.waiters);
    stopReviews = true;
    await Promise.all(reviewers);
    const loadMs = Date.now() - t1;
    assert.ok(t.acknowledged.size > killed.ackedBefore, 'proposals were acknowledged after the kill: it happened mid-load');

    // What the agents were told, held against the database.
    const v = await verdict(d.db.read, t);
    console.log(
      `multi-node: requests sent ${t.sent}, acknowledged ${t.acknowledged.size} (${killed.ackedBefore} before the SIGKILL), ` +
        `lost ${v.lost.length}, executed twice ${v.ranTwice.length + v.redeemedTwice.length}; ` +
        `ran ${t.outcomes.ran}, refused by a reviewer ${t.outcomes.refused}, withheld after a lost answer ${t.outcomes.withheld}, ` +
        `result reports lost with the node ${v.resultLost}; long-poll waiters ${t.longPolls.started} (answered ${t.longPolls.answered}); ` +
        `node1 held ${killed.longPolls} long-polls and ${killed.streams} event streams when killed; ` +
        `retried by the balancer ${balancerRetries((lb as Balancer).log())}; vote conflicts ${t.conflicts}; ` +
        `start-up ${startup} ms, load ${loadMs} ms (SIGKILL at ${killedAt} ms)`,
    );
    assert.deepEqual(v.lost, [], 'every acknowledged action is stored as its agent was told');
    assert.deepEqual(v.ranTwice, [], 'no tool ran twice');
    assert.deepEqual(v.redeemedTwice, [], 'no receipt was redeemed twice');
    assert.deepEqual(v.executedUnknown, [], 'every action recorded as executed was run by its agent');
    assert.deepEqual(v.ranUnredeemed, [], 'every run was licensed by a redeemed receipt');
    assert.equal(t.outcomes.ran + t.outcomes.refused + t.outcomes.withheld, WORKERS * CALLS_PER_WORKER, 'every call came back');
    assert.equal(t.longPolls.answered, t.longPolls.started, 'every long-poll waiter was answered with a decision');
    assert.ok(t.longPolls.started > 0 && v.decidedByPeople.length === t.longPolls.started, 'every call under review was decided');

    // The event-stream followers saw every decision made for them, resuming on the survivors.
    await until('the followers saw every decision', () => v.decidedByPeople.every((id) => followers.some((f) => f.seen.has(id))), 10_000);
    stopStreams.abort();
    await Promise.all(followers.map((f) => f.done));
  });

  test('the MCP proxy pointed at the balancer runs a reviewed call end to end on the surviving nodes', async () => {
    const url = (lb as Balancer).url;
    const mcpCfg = join(dir, 'mcp.yaml');
    writeFileSync(
      mcpCfg,
      stringify({
        mcp: {
          servers: [
            { name: 'memory', command: process.execPath, args: [MEMORY_SERVER], env: { MEMORY_FILE_PATH: join(dir, 'memory.jsonl') } },
          ],
        },
      }),
    );
    const env: Record<string, string> = { COUNTERSIGN_URL: url, COUNTERSIGN_AGENT_KEY: keys.mcp, COUNTERSIGN_LOG_LEVEL: 'warn' };
    for (const k of ['PATH', 'HOME', 'TMPDIR']) if (process.env[k]) env[k] = process.env[k] as string;
    const client: McpClient = await connectStdio(['--config', mcpCfg], env);
    try {
      const reviewer = createClient({ url, apiKey: keys.alice });
      const approve = (async () => {
        for (;;) {
          const list = await reviewer.request<{ items: { id: string }[] }>('GET', '/v1/actions?status=pending&tool=create_entities');
          if (list.items[0]) return reviewer.review(list.items[0].id, { decision: 'approve' });
          await sleep(30);
        }
      })();
      const result = await client.callTool({
        name: 'create_entities',
        arguments: { entities: [{ name: 'balancer', entityType: 'test', observations: ['behind haproxy'] }] },
      });
      const approved = await approve;
      assert.equal(result.isError, undefined, textOf(result));
      assert.match(textOf(result), /balancer/);
      const row = await (deps as Deps).db.read
        .selectFrom('actions')
        .select(['status', 'redeemed_at'])
        .where('id', '=', approved.id)
        .executeTakeFirstOrThrow();
      assert.ok(row.redeemed_at !== null, 'the proxy redeemed the receipt before running the tool');
    } finally {
      await client.close();
    }
  });

  test('countersign audit verify passes on the chain the three nodes wrote together', async () => {
    const r = await runCli(['audit', 'verify', '--data', join(dir, 'admin')], childEnv({ COUNTERSIGN_DATABASE_URL: dbUrl }));
    assert.equal(r.code, 0, `audit verify failed:\n${r.stdout}\n${r.stderr}`);
    console.log(`multi-node: ${r.stdout.trim()}`);
  });
});
