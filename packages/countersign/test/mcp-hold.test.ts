/*
 * Holding a call past the MCP client's 60 s request time-out, on a fake clock: the proxy runs
 * in-process with the default budgets (45 s without a progress token, 10 min with one, a progress
 * notification every 10 s), in front of the real filesystem server, with the SDK's client on an
 * in-memory transport. Only the proxy's clock is fake; the gateway and the servers are real.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client, type Progress } from '@modelcontextprotocol/client';
import { InMemoryTransport } from '@modelcontextprotocol/server';
import pino from 'pino';
import { FakeClock } from '../src/lib/clock.js';
import { type RunningProxy, runProxy } from '../src/mcp/run.js';
import { resolveProxySettings } from '../src/mcp/settings.js';
import { review, type World, world } from './helpers.js';
import { FS_SERVER, sleep, tempDir, textOf, until, waitForAction, waitForStatus } from './mcp-helpers.js';

describe('MCP proxy holds on a fake clock (default budgets)', () => {
  let w: World;
  let proxy: RunningProxy;
  let client: Client;
  const clock = new FakeClock(Date.now());
  const tmp = tempDir();

  before(async () => {
    w = await world('sqlite', { listen: true, trustAnnotationsOf: ['deployer'] });
    const settings = resolveProxySettings(
      { servers: [{ name: 'fs', command: process.execPath, args: [FS_SERVER, tmp.dir] }], pins_file: join(tmp.dir, 'pins.json') },
      { COUNTERSIGN_URL: w.gw.url, COUNTERSIGN_AGENT_KEY: w.keys.agent },
      {},
      tmp.dir,
    );
    assert.deepEqual(settings.hold, { budgetMs: 45_000, progressBudgetMs: 600_000, progressIntervalMs: 10_000, inputRequired: true });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    proxy = await runProxy(settings, { log: pino({ level: 'silent' }), clock, stdioTransport: serverSide });
    client = new Client({ name: 'hold-test', version: '1.0.0' });
    await client.connect(clientSide);
  });

  after(async () => {
    await client?.close();
    await proxy?.stop();
    // The in-process proxy's aborted long-poll (the spent budget) leaves its socket to the
    // in-process gateway open, and Fastify's close() would wait out its keep-alive timeout for it.
    w?.gw.app.server.closeAllConnections();
    await w?.close();
    tmp.cleanup();
  });

  test('with a progress token: held for 80 s with a notification every 10 s, then approved and run', async () => {
    const file = join(tmp.dir, 'long.txt');
    const progress: Progress[] = [];
    const call = client.callTool(
      { name: 'write_file', arguments: { path: file, content: 'after 80 s' } },
      { onprogress: (p) => progress.push(p) },
    );
    const action = await waitForAction(w, 'write_file');
    await until(() => progress.length === 1);
    for (let s = 10; s <= 80; s += 10) {
      await clock.advance(10_000);
      await until(() => progress.length === s / 10 + 1);
    }
    assert.deepEqual(
      progress.map((p) => p.progress),
      [0, 10, 20, 30, 40, 50, 60, 70, 80],
    );
    assert.ok(progress.every((p) => p.total === 600));
    assert.ok(progress.every((p) => p.message?.startsWith('waiting for approval by role reviewer, id ') && p.message.includes(action.id)));
    assert.equal(existsSync(file), false);
    await review(w, action.id, w.keys.alice, { decision: 'approve' });
    const r = await call;
    assert.notEqual(r.isError, true, textOf(r));
    assert.equal(readFileSync(file, 'utf8'), 'after 80 s');
    await waitForStatus(w, action.id, 'executed');
  });

  test('without a progress token: answered "pending" when the 45 s budget is spent, not before', async () => {
    const file = join(tmp.dir, 'budget.txt');
    let answered = false;
    const call = client.callTool({ name: 'write_file', arguments: { path: file, content: 'x' } }).finally(() => {
      answered = true;
    });
    const action = await waitForAction(w, 'write_file');
    await until(() => clock.pendingTimers() === 1);
    await clock.advance(44_000);
    await sleep(100);
    assert.equal(answered, false, 'still holding at 44 s');
    await clock.advance(1_000);
    const r = await call;
    assert.equal(r.isError, true);
    assert.ok(textOf(r).startsWith(`NOT EXECUTED — pending approval ${action.id} (`), textOf(r));
    assert.equal(existsSync(file), false);
  });
});
