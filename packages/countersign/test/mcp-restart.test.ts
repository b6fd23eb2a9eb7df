/*
 * An upstream that goes away: a stdio server that crashes is restarted with back-off, an HTTP
 * server that drops is reconnected on the next call, and a call that was in flight is answered
 * with an error and never sent again. Real proxy and upstream processes (test/fixtures/
 * mcp-mutable-server.ts: `crash` exits mid-call, --refuse-file makes it fail at start).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { CallToolResult, Client } from '@modelcontextprotocol/client';
import pino from 'pino';
import { ConnectionSupervisor, restartDelay } from '../src/mcp/supervisor.js';
import { REPO_ROOT, review, type World, world } from './helpers.js';
import {
  actionsOf,
  connectStdioLogged,
  MUTABLE_SERVER,
  proxyEnv,
  sleep,
  tempDir,
  textOf,
  until,
  waitForAction,
  waitForStatus,
  writeConfig,
} from './mcp-helpers.js';

interface Proxy {
  client: Client;
  /** The proxy's log (stderr) so far. */
  stderr(): string;
  /** The upstream's event log so far. */
  upstream(): string;
}

/** `countersign mcp proxy` over stdio with its stderr kept, so the tests can read its restart log lines. */
async function startProxy(w: World, args: string[]): Promise<Proxy & { logFile: string }> {
  const tmp = tempDir();
  cleanups.push(tmp.cleanup);
  const logFile = join(tmp.dir, 'upstream.log');
  const config = writeConfig(tmp.dir, {
    servers: [{ name: 'mutable', command: process.execPath, args: ['--import', 'tsx', MUTABLE_SERVER, '--log', logFile, ...args] }],
    hold: { budget: '300ms' },
    pins_file: join(tmp.dir, 'pins.json'),
  });
  const { client, stderr } = await connectStdioLogged(['--config', config], proxyEnv(w));
  cleanups.push(() => client.close());
  return { client, logFile, stderr, upstream: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '') };
}

const cleanups: (() => unknown)[] = [];
const call = (p: Proxy, name: string, args: Record<string, unknown> = {}) =>
  p.client.callTool({ name, arguments: args }) as Promise<CallToolResult>;
const lines = (text: string, prefix: string) => text.split('\n').filter((l) => l.startsWith(prefix));

describe('MCP proxy: a stdio upstream that crashes', () => {
  let w: World;

  before(async () => {
    w = await world('sqlite', { listen: true, trustAnnotationsOf: ['deployer'] });
  });

  after(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
    await w?.close();
  });

  test('a call in flight when the upstream dies answers an error and is not run again', async () => {
    const p = await startProxy(w, []);
    const r = await call(p, 'crash', { once: true });
    assert.equal(r.isError, true);
    assert.match(textOf(r), /"mutable".*lost during the call; it may have run, and it is not sent again/);
    const action = await waitForAction(w, 'crash', 'failed');
    assert.match(action.result.output.error, /lost during the call/);
    await until(() => lines(p.upstream(), 'start').length === 2, 10_000);
    // Well past the restart: the call that died with the server was not sent to the new one.
    assert.equal(textOf(await call(p, 'probe', { after: 'restart' })), 'probe {"after":"restart"}');
    assert.equal(lines(p.upstream(), 'call crash').length, 1);
  });

  test('an upstream that crashes is restarted and its tools work again', async () => {
    const p = await startProxy(w, []);
    assert.equal(textOf(await call(p, 'probe', { n: 1 })), 'probe {"n":1}');
    for (let crash = 1; crash <= 2; crash++) {
      await call(p, 'crash', { crash });
      await until(() => lines(p.upstream(), 'start').length === crash + 1, 10_000);
      await until(() => p.stderr().split('upstream MCP server restarted').length === crash + 1);
      assert.equal(textOf(await call(p, 'probe', { crash })), `probe {"crash":${crash}}`);
    }
    assert.match(p.stderr(), /upstream MCP server is down; restarting it/);
    const tools = (await p.client.listTools()).tools.map((t) => t.name);
    assert.ok(tools.includes('probe') && tools.includes('crash'), 'the same tools, under the same names');
  });

  test('while it cannot be restarted, calls answer at once naming the server, and the attempts back off', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const refuse = join(tmp.dir, 'refuse');
    const p = await startProxy(w, ['--refuse-file', refuse]);
    writeFileSync(refuse, 'no');
    await call(p, 'crash', { refused: true });
    await until(() => lines(p.upstream(), 'refused').length >= 1, 10_000);
    const started = Date.now();
    const r = await call(p, 'probe', { while: 'down' });
    assert.ok(Date.now() - started < 5000, 'never held until the server is back');
    assert.equal(r.isError, true);
    assert.match(
      textOf(r),
      /the upstream MCP server "mutable" is down \(.+\); the proxy (restarts it in [\d.]+ s|is restarting it)\. Nothing was run/,
    );
    assert.equal(p.upstream().includes('"while":"down"'), false);
    assert.match(textOf(r), /neither proposed for approval nor run/);
    const proposed = (await actionsOf(w, 'probe')).filter((a) => a.arguments.while === 'down');
    assert.deepEqual(proposed, [], 'nothing was put up for review, and no approval used up');
    await until(() => lines(p.upstream(), 'refused').length >= 2, 10_000);
    const [first, second] = lines(p.upstream(), 'refused').map((l) => Number(l.split(' ')[2]));
    assert.ok((second ?? 0) - (first ?? 0) >= 1000, `the second attempt waited twice as long (${(second ?? 0) - (first ?? 0)} ms)`);
    rmSync(refuse);
    await until(() => p.stderr().includes('upstream MCP server restarted'), 15_000);
    assert.equal(textOf(await call(p, 'probe', { while: 'up' })), 'probe {"while":"up"}');
  });

  test("a restarted upstream gets the sessions' resource subscriptions again, so updates keep coming", async () => {
    const p = await startProxy(w, ['--resources']);
    const updates: string[] = [];
    p.client.setNotificationHandler('notifications/resources/updated', (n) => {
      updates.push(n.params.uri);
    });
    await p.client.subscribeResource({ uri: 'mutable://note' });
    assert.equal(textOf(await call(p, 'touch')), 'touched, subscribers told');
    await until(() => updates.length === 1);
    await call(p, 'crash');
    await until(() => p.stderr().includes('upstream MCP server restarted'), 10_000);
    await until(() => lines(p.upstream(), 'subscribe mutable://note').length === 2, 10_000);
    assert.equal(textOf(await call(p, 'touch')), 'touched, subscribers told');
    await until(() => updates.length === 2);
  });

  test('a restarted upstream whose definition changed sends that tool to review', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const probeFile = join(tmp.dir, 'probe.json');
    const p = await startProxy(w, ['--probe-file', probeFile]);
    let listChanged = 0;
    p.client.setNotificationHandler('notifications/tools/list_changed', () => {
      listChanged += 1;
    });
    assert.equal(textOf(await call(p, 'probe', { v: 1 })), 'probe {"v":1}');
    writeFileSync(probeFile, JSON.stringify({ description: 'Echoes its input, and mails it to someone.' }));
    await call(p, 'crash');
    await until(() => p.stderr().includes('upstream MCP server restarted'), 10_000);
    await until(() => listChanged > 0);
    const r = await call(p, 'probe', { v: 2 });
    assert.match(textOf(r), /^NOT EXECUTED — pending approval /);
    const action = await waitForAction(w, 'probe');
    assert.deepEqual(action.metadata.mcp.definition_changed.fields, ['description']);
    await review(w, action.id, w.keys.alice, { decision: 'deny', reason: 'no' });
  });

  test('an approval given for one definition is not used once the tool has changed again', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const probeFile = join(tmp.dir, 'probe.json');
    const p = await startProxy(w, ['--probe-file', probeFile]);
    const restartWith = async (description: string, n: number) => {
      writeFileSync(probeFile, JSON.stringify({ description }));
      await call(p, 'crash', { n });
      await until(() => p.stderr().split('upstream MCP server restarted').length === n + 1, 10_000);
    };
    assert.equal(textOf(await call(p, 'probe', { v: 1 })), 'probe {"v":1}');
    await restartWith('Echoes its input, and mails it to someone.', 1);
    const held = await call(p, 'probe', { v: 2 });
    assert.match(textOf(held), /^NOT EXECUTED — pending approval /);
    const action = await waitForAction(w, 'probe');
    await restartWith('Echoes its input, and deletes what it echoes.', 2);
    await review(w, action.id, w.keys.alice, { decision: 'approve' });
    const retry = await call(p, 'probe', { v: 2 });
    assert.equal(retry.isError, true);
    assert.match(textOf(retry), /^NOT EXECUTED — "probe" changed its definition after action .+ was proposed, so the approval is not used/);
    assert.equal(p.upstream().includes('"v":2'), false, 'never run against the definition nobody reviewed');
    const again = await call(p, 'probe', { v: 2 });
    assert.match(textOf(again), /^NOT EXECUTED — pending approval /, 'called again, it is reviewed as it is now');
    const fresh = (await actionsOf(w, 'probe')).find((a) => a.status === 'pending');
    assert.match(fresh.metadata.mcp.definition_changed.current.description, /deletes what it echoes/);
    await review(w, fresh.id, w.keys.alice, { decision: 'deny', reason: 'no' });
  });

  test('a held call approved while its server restarts is checked against the restarted server, and not run if the tool changed', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const probeFile = join(tmp.dir, 'probe.json');
    const holdFile = join(tmp.dir, 'hold');
    const p = await startProxy(w, ['--probe-file', probeFile, '--hold-file', holdFile]);
    assert.equal(textOf(await call(p, 'probe', { v: 1 })), 'probe {"v":1}');
    writeFileSync(probeFile, JSON.stringify({ description: 'Echoes its input, and mails it to someone.' }));
    await call(p, 'crash', { n: 1 });
    await until(() => p.stderr().includes('upstream MCP server restarted'), 10_000);
    // With a progress token the call is held for minutes, not answered "pending".
    const held = p.client.callTool({ name: 'probe', arguments: { v: 2 } }, { onprogress: () => undefined }) as Promise<CallToolResult>;
    const action = await waitForAction(w, 'probe');
    // The server crashes again and comes back changed, slowly; the approval lands while it is restarting.
    writeFileSync(probeFile, JSON.stringify({ description: 'Echoes its input, and deletes what it echoes.' }));
    writeFileSync(holdFile, '');
    await call(p, 'crash', { n: 2 });
    await until(() => p.upstream().includes('holding'), 10_000);
    await review(w, action.id, w.keys.alice, { decision: 'approve' });
    await sleep(300);
    rmSync(holdFile);
    const answer = await held;
    assert.equal(answer.isError, true);
    assert.match(textOf(answer), /^NOT EXECUTED — "probe" changed its definition after action .+ was proposed/);
    assert.equal(p.upstream().includes('"v":2'), false, 'never run against the definition nobody reviewed');
    const after = (await actionsOf(w, 'probe')).find((a) => a.id === action.id);
    assert.equal(after.redeemed_at, null, 'checked before redeeming: the approval is not used up');
  });
});

describe('MCP proxy: an HTTP upstream that drops', () => {
  let w: World;
  const tmp = tempDir();
  const portFile = join(tmp.dir, 'port');
  let upstream: ChildProcess | undefined;

  async function startUpstream(port = 0): Promise<number> {
    rmSync(portFile, { force: true });
    const args = ['--import', 'tsx', MUTABLE_SERVER, '--http', portFile, '--port', String(port), '--log', join(tmp.dir, 'up.log')];
    upstream = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: 'inherit' });
    await until(() => existsSync(portFile) && readFileSync(portFile, 'utf8') !== '', 10_000);
    return Number(readFileSync(portFile, 'utf8'));
  }

  async function stopUpstream(): Promise<void> {
    if (!upstream || upstream.exitCode !== null || upstream.signalCode !== null) return;
    const exited = once(upstream, 'exit');
    upstream.kill();
    await exited;
  }

  before(async () => {
    w = await world('sqlite', { listen: true, trustAnnotationsOf: ['deployer'] });
  });

  after(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
    await stopUpstream();
    await w?.close();
    tmp.cleanup();
  });

  test('an HTTP upstream whose connection drops is reconnected on the next call', async () => {
    const port = await startUpstream();
    const { client, stderr } = await connectStdioLogged(
      [
        '--upstream-url',
        `http://127.0.0.1:${port}/mcp`,
        '--header',
        'x-upstream-key: k1',
        '--name',
        'remote',
        '--pins',
        join(tmp.dir, 'pins.json'),
      ],
      proxyEnv(w),
    );
    cleanups.push(() => client.close());
    const probe = (args: Record<string, unknown>) => client.callTool({ name: 'probe', arguments: args }).then(textOf);

    assert.equal(await probe({ n: 1 }), 'probe {"n":1}');
    await stopUpstream();
    const lost = await probe({ n: 2 });
    assert.match(lost, /"remote".*lost during the call; it may have run, and it is not sent again/);
    await until(() => stderr().includes('lost the upstream MCP server; reconnecting on a later call'));
    const failed = await waitForAction(w, 'probe', 'failed');
    await waitForStatus(w, failed.id, 'failed');

    await startUpstream(port);
    await sleep(600); // past the first back-off delay
    assert.equal(await probe({ n: 3 }), 'probe {"n":3}');
    await until(() => stderr().includes('reconnected to the upstream MCP server'));
  });
});

describe('restart back-off', () => {
  test('delays double from half a second up to thirty seconds', () => {
    assert.deepEqual(
      [0, 1, 2, 5, 6, 100].map((n) => restartDelay(n)),
      [500, 1000, 2000, 16_000, 30_000, 30_000],
    );
  });

  test('an HTTP connection is tried again by the first call after its delay, never before; failures back off; a healthy spell resets', async () => {
    let attempts = 0;
    let fail = true;
    let reconnected = 0;
    const sup = new ConnectionSupervisor({
      server: 'remote',
      eager: false,
      reconnect: async () => {
        attempts += 1;
        if (fail) throw new Error('refused');
      },
      reconnected: () => {
        reconnected += 1;
      },
      log: pino({ level: 'silent' }),
      policy: { initialDelayMs: 100, maxDelayMs: 1000, stableAfterMs: 300, callWaitMs: 1000 },
    });
    sup.lost('fetch failed');
    await assert.rejects(sup.ready(), /"remote" is down \(fetch failed\); a call in 0\.\d s or later reconnects\. Nothing was run/);
    assert.equal(attempts, 0, 'not before the delay');
    await sleep(120);
    await assert.rejects(sup.ready(), /the last attempt failed: refused\); a call in 0\.[12] s or later reconnects/);
    assert.equal(attempts, 1);
    await assert.rejects(sup.ready());
    assert.equal(attempts, 1, 'the doubled delay is not over');
    fail = false;
    await sleep(220);
    await sup.ready();
    assert.deepEqual([attempts, reconnected, sup.isUp], [2, 1, true]);
    sup.lost('fetch failed');
    await assert.rejects(sup.ready(), /in 0\.[34] s or later/, 'it did not last: the back-off goes on growing');
    await sleep(420);
    await sup.ready();
    await sleep(320);
    sup.lost('fetch failed');
    await assert.rejects(sup.ready(), /in 0\.1 s or later/, 'up longer than stableAfterMs: back to the first delay');
    await sup.close();
    await assert.rejects(sup.ready(), /is not connected \(the proxy is stopping\)/);
  });
});
