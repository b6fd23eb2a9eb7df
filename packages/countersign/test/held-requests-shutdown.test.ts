import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import { type Kysely, type KyselyPlugin, SelectQueryNode, TableNode } from 'kysely';
import pino from 'pino';
import type { DB } from '../src/db/types.js';
import { addAgent } from '../src/domain/identities/add-agent.js';
import { addUser } from '../src/domain/identities/add-user.js';
import { type Gateway, startGateway } from '../src/gateway.js';
import { ADMIN, type Dialect, forEachDialect, testEnv } from './helpers.js';

const PARKED = 40;

/** A listening gateway whose warnings and errors are kept, with an agent and a pending action per waiter. */
async function gateway(dialect: Dialect) {
  const env = testEnv(dialect);
  const logged: { level: number; msg: string; err?: { message?: string } }[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
  const gw: Gateway = await startGateway(env.config, { listen: true, logger, ...(env.schema ? { schema: env.schema } : {}) });
  await addUser(gw.deps, ADMIN, { email: 'owner@example.com', role: 'reviewer' });
  const agent = await addAgent(gw.deps, ADMIN, { name: 'waiter', owner: 'owner@example.com' });
  const ids: string[] = [];
  for (let i = 0; i < PARKED; i++) {
    const res = await fetch(`${gw.url}/v1/actions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${agent.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tool: 'deploy', arguments: { i } }),
    });
    const body = (await res.json()) as { id: string; status: string };
    assert.equal(body.status, 'pending');
    ids.push(body.id);
  }
  return { gw, env, logged, key: agent.apiKey, ids };
}

/** One long-poll on its own connection: resolves with the status and body, or with the socket error. */
function longPoll(
  url: string,
  key: string,
  id: string,
): { answer: Promise<{ status: number; body: string } | Error>; req: http.ClientRequest } {
  let req: http.ClientRequest | undefined;
  const answer = new Promise<{ status: number; body: string } | Error>((resolve) => {
    req = http.get(`${url}/v1/actions/${id}?wait=60`, { agent: false, headers: { authorization: `Bearer ${key}` } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', resolve);
    });
    req.on('error', resolve);
  });
  return { answer, req: req as http.ClientRequest };
}

async function parkedCount(gw: Gateway): Promise<number> {
  const m = await gw.deps.metrics.waiters.get();
  return m.values.find((v) => v.labels.kind === 'long_poll')?.value ?? 0;
}

async function untilParked(gw: Gateway, n: number): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if ((await parkedCount(gw)) === n) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.fail(`never ${n} parked long-polls`);
}

/** Counts the reads of the actions table through `db.read` from now on. */
function countActionReads(gw: Gateway): { reads: number } {
  const counted = { reads: 0 };
  const plugin: KyselyPlugin = {
    transformQuery({ node }) {
      const from = SelectQueryNode.is(node) ? node.from?.froms[0] : undefined;
      if (from && TableNode.is(from) && from.table.identifier.name === 'actions') counted.reads += 1;
      return node;
    },
    transformResult: async ({ result }) => result,
  };
  const db = gw.deps.db as { read: Kysely<DB> };
  db.read = db.read.withPlugin(plugin);
  return counted;
}

forEachDialect('closing a gateway with parked long-polls', (dialect) => {
  test('every parked long-poll is answered with the current state before the gateway has closed', async () => {
    const { gw, env, logged, key, ids } = await gateway(dialect);
    try {
      const polls = ids.map((id) => longPoll(gw.url, key, id));
      await untilParked(gw, PARKED);
      await gw.close();
      for (const p of polls) {
        const answer = await p.answer;
        assert.ok(!(answer instanceof Error), `answered, not ${answer instanceof Error ? answer.message : ''}`);
        assert.equal(answer.status, 200);
        assert.equal(JSON.parse(answer.body).status, 'pending');
      }
      assert.deepEqual(logged, [], 'nothing was logged as a warning or an error');
      assert.equal(gw.app.held.size(), 0);
    } finally {
      await env.cleanup();
    }
  });

  test('closing reads the parked long-polls’ actions once for all of them, not once each', async () => {
    const { gw, env, logged, key, ids } = await gateway(dialect);
    try {
      const polls = ids.map((id) => longPoll(gw.url, key, id));
      await untilParked(gw, PARKED);
      const counted = countActionReads(gw);
      await gw.close();
      const answers = await Promise.all(polls.map((p) => p.answer));
      assert.deepEqual(
        answers.map((a) => (a instanceof Error ? a.message : [a.status, JSON.parse(a.body).id])),
        ids.map((id) => [200, id]),
        'every long-poll was answered with its own action',
      );
      assert.equal(counted.reads, 1);
      assert.deepEqual(logged, []);
      assert.equal(gw.app.longPolls.size(), 0);
    } finally {
      await env.cleanup();
    }
  });

  test('long-polls whose clients left just before the close finish their reads before the database closes', async () => {
    const { gw, env, logged, key, ids } = await gateway(dialect);
    try {
      const polls = ids.map((id) => longPoll(gw.url, key, id));
      await untilParked(gw, PARKED);
      for (const p of polls) p.req.destroy();
      await gw.close();
      assert.deepEqual(
        logged.map((l) => l.err?.message ?? l.msg),
        [],
        'no held request failed on a closed database',
      );
      assert.equal(gw.app.held.size(), 0);
      assert.equal(await parkedCount(gw), 0);
    } finally {
      await env.cleanup();
    }
  });
});
