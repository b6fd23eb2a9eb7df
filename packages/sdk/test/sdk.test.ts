import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { startGateway } from '../../countersign/src/gateway.js';
import { call, type World, world } from '../../countersign/test/helpers.js';
import { type CountersignError, createClient, isRefusal, verifyReceipt } from '../src/index.js';
import { decideWhenPending as decide } from './support.js';

let w: World;
before(async () => {
  w = await world('sqlite', { listen: true, trustAnnotationsOf: ['deployer'] });
});
after(async () => w.close());

const client = () => createClient({ url: w.gw.url, apiKey: w.keys.agent });

const decideWhenPending = (tool: string, decision: Record<string, unknown>, which?: (args: Record<string, unknown>) => boolean) =>
  decide(w, tool, decision, which);

test('a guarded tool approved with edited arguments runs with the edited ones, once, and its result is reported', async () => {
  const ran: unknown[] = [];
  const deploy = client().guard(
    async (args: { env: string; replicas: number }) => {
      ran.push(args);
      return { deployed: args.env, replicas: args.replicas };
    },
    { tool: 'deploy-edit' },
  );
  const pending = deploy({ env: 'production', replicas: 10 }, { toolCallId: 'call-edit-1' });
  const decided = await decideWhenPending('deploy-edit', { decision: 'approve', arguments: { env: 'production', replicas: 2 } });
  assert.equal(decided.status, 'approved');
  assert.deepEqual(await pending, { deployed: 'production', replicas: 2 });
  assert.deepEqual(ran, [{ env: 'production', replicas: 2 }]);
  const final = await client().getAction(decided.id);
  assert.equal(final.status, 'executed');
  assert.ok(final.redeemed_at);
  assert.deepEqual(final.result?.output, { deployed: 'production', replicas: 2 });
});

test('a denied call never runs, and the model reads who denied it and why', async () => {
  let ran = false;
  const drop = client().guard(
    async () => {
      ran = true;
    },
    { tool: 'drop-table' },
  );
  const pending = drop({ table: 'users' }, { toolCallId: 'call-deny-1' });
  await decideWhenPending('drop-table', { decision: 'deny', reason: 'not during the freeze' });
  const out = await pending;
  assert.ok(isRefusal(out));
  assert.equal(out.message, 'Denied by alice@example.com: not during the freeze. The tool "drop-table" was not run.');
  assert.equal(ran, false);
});

test('three parallel tool calls get three independent decisions', async () => {
  const ran: string[] = [];
  const restart = client().guard(
    async (a: { service: string }) => {
      ran.push(a.service);
      return a.service;
    },
    { tool: 'restart-par' },
  );
  const calls = ['api', 'web', 'worker'].map((service, i) => restart({ service }, { toolCallId: `par-${i}` }));
  for (const decision of ['approve', 'deny', 'approve']) await decideWhenPending('restart-par', { decision, reason: 'per call' });
  const results = await Promise.all(calls);
  assert.equal(results.filter(isRefusal).length, 1);
  assert.equal(ran.length, 2);
});

test('an agent killed while waiting re-attaches to the same action after a restart and runs it once', async () => {
  let runs = 0;
  const tool = async () => {
    runs += 1;
    return 'done';
  };
  const first = client().guard(tool, { tool: 'migrate-db' });
  const dying = new AbortController();
  const attempt = first({ step: 7 }, { toolCallId: 'call-crash-1', signal: dying.signal });
  await new Promise((r) => setTimeout(r, 50));
  dying.abort(); // the agent process goes away mid-wait
  await assert.rejects(attempt, (e: CountersignError) => e.code === 'timeout');
  // A fresh client (the restarted agent) makes the same tool call again.
  const again = createClient({ url: w.gw.url, apiKey: w.keys.agent }).guard(tool, { tool: 'migrate-db' });
  const resumed = again({ step: 7 }, { toolCallId: 'call-crash-1' });
  const decided = await decideWhenPending('migrate-db', { decision: 'approve' });
  assert.equal(await resumed, 'done');
  const all = await call(w, 'GET', '/v1/actions?tool=migrate-db', w.keys.alice);
  assert.equal(all.body.items.length, 1, 're-attached instead of proposing again');
  // And a replay after it ran returns the recorded result without running it again.
  assert.equal(await again({ step: 7 }, { toolCallId: 'call-crash-1' }), 'done');
  assert.equal(runs, 1);
  assert.equal(decided.status, 'approved');
});

test('an error page from a proxy in front of the gateway is an unavailable error the caller can retry, not a parse error', async () => {
  const proxy = createServer((_req, res) => {
    res.writeHead(502, { 'content-type': 'text/html' }).end('<html><body><h1>502 Bad Gateway</h1></body></html>');
  });
  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');
  try {
    const { port } = proxy.address() as AddressInfo;
    const cs = createClient({ url: `http://127.0.0.1:${port}`, apiKey: w.keys.agent });
    await assert.rejects(cs.propose({ tool: 'deploy', arguments: {} }, { idempotencyKey: 'behind-a-proxy' }), (e: CountersignError) => {
      assert.equal(e.code, 'unavailable');
      assert.equal(e.status, 502);
      return true;
    });
  } finally {
    proxy.close();
  }
});

test('waitForDecision falls back to long-polling when the event stream is unavailable', async () => {
  const noSse: typeof fetch = (input, init) => {
    if (String(input).includes('/v1/events'))
      return Promise.resolve(new Response('{"error":{"code":"not_found","message":"no"}}', { status: 404 }));
    return fetch(input, init);
  };
  const cs = createClient({ url: w.gw.url, apiKey: w.keys.agent, fetch: noSse, longPollSeconds: 5 });
  const a = await cs.propose({ tool: 'no-sse', arguments: {} });
  const waiting = cs.waitForDecision(a.id);
  await decideWhenPending('no-sse', { decision: 'approve' });
  assert.equal((await waiting).status, 'approved');
});

test('a receipt from the SDK verifies offline with the gateway JWKS', async () => {
  const cs = client();
  const a = await cs.propose({ tool: 'read', arguments: { path: '/etc/motd' }, annotations: { readOnlyHint: true } });
  const claims = await verifyReceipt(
    a.receipt as string,
    { id: a.id, agent: a.agent.id, tool: a.tool, arguments: a.arguments, resource: a.resource },
    (await cs.jwks()) as never,
  );
  assert.equal(claims.sub, a.id);
});

test('waitForDecision stops when aborted, even while its first read is still in flight', async () => {
  const cs = client();
  const a = await cs.propose({ tool: 'sdk-abort-early', arguments: {} });
  for (const abortAfterMs of [0, 1, 5]) {
    const ctl = new AbortController();
    const waiting = cs.waitForDecision(a.id, { signal: ctl.signal });
    setTimeout(() => ctl.abort(), abortAfterMs);
    const outcome = await Promise.race([waiting.then((x) => x.status), new Promise((r) => setTimeout(() => r('still waiting'), 5000))]);
    assert.equal(outcome, 'pending', `aborted after ${abortAfterMs} ms`);
  }
});

test('waitForDecision survives a gateway restart mid-wait', async () => {
  const port = Number(new URL(w.gw.url).port);
  const cs = client();
  const a = await cs.propose({ tool: 'survive', arguments: {} }, { idempotencyKey: 'survive-1' });
  const waiting = cs.waitForDecision(a.id);
  await new Promise((r) => setTimeout(r, 100));
  await w.gw.close();
  const config = { ...w.gw.deps.config, server: { ...w.gw.deps.config.server, port } };
  const first = w.gw;
  const gw = await startGateway(config, { logger: pino({ level: 'silent' }) });
  try {
    w.gw = gw;
    await decideWhenPending('survive', { decision: 'approve' });
    assert.equal((await waiting).status, 'approved');
  } finally {
    w.gw = first; // world.close() closes the gateway it started (already closed: a no-op)
    await gw.close();
  }
});
