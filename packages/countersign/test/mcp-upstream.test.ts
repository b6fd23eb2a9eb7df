/*
 * What reaches the proxy from its upstream, with a small fixture server (test/fixtures/
 * mcp-mutable-server.ts) for what the reference servers never do: change a tool's definition
 * while connected, report progress while running, notice cancellation, serve Streamable HTTP.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Client, Progress } from '@modelcontextprotocol/client';
import { REPO_ROOT, runCli, type World, world } from './helpers.js';
import {
  actionsOf,
  connectStdio,
  MUTABLE_SERVER,
  proxyEnv,
  tempDir,
  textOf,
  until,
  waitForAction,
  waitForStatus,
  writeConfig,
} from './mcp-helpers.js';

describe('MCP proxy: what comes from the upstream', () => {
  let w: World;
  let client: Client;
  const tmp = tempDir();
  const upstreamLog = join(tmp.dir, 'upstream.log');
  let listChanged = 0;

  before(async () => {
    w = await world('sqlite', { listen: true, trustAnnotationsOf: ['deployer'] });
    const config = writeConfig(tmp.dir, {
      servers: [{ name: 'mutable', command: process.execPath, args: ['--import', 'tsx', MUTABLE_SERVER, '--log', upstreamLog] }],
      hold: { budget: '500ms', progress_budget: '5s', progress_interval: '200ms' },
      pins_file: join(tmp.dir, 'pins.json'),
    });
    client = await connectStdio(['--config', config], proxyEnv(w));
    client.setNotificationHandler('notifications/tools/list_changed', () => {
      listChanged += 1;
    });
  });

  after(async () => {
    await client?.close();
    await w?.close();
    tmp.cleanup();
  });

  test('progress from a running upstream tool is forwarded', async () => {
    const progress: Progress[] = [];
    const r = await client.callTool({ name: 'count', arguments: {} }, { onprogress: (p) => progress.push(p) });
    assert.equal(textOf(r), 'counted');
    assert.deepEqual(
      progress.map((p) => p.message),
      ['step 1', 'step 2', 'step 3'],
    );
    assert.ok(
      progress.every((p, i) => i === 0 || p.progress > (progress[i - 1]?.progress ?? 0)),
      'still increasing',
    );
  });

  test('cancelling a running approved call cancels it upstream', async () => {
    const ac = new AbortController();
    const pending = client.callTool({ name: 'sleep', arguments: {} }, { signal: ac.signal });
    const action = await waitForAction(w, 'sleep', 'approved');
    await until(() => existsSync(upstreamLog) && readFileSync(upstreamLog, 'utf8').includes('call sleep'));
    ac.abort();
    await assert.rejects(pending);
    await until(() => readFileSync(upstreamLog, 'utf8').includes('sleep cancelled'));
    const failed = await waitForStatus(w, action.id, 'failed');
    assert.equal(failed.result.output.cancelled, true);
  });

  test('a definition that changes while connected: list_changed is forwarded and the tool goes to review', async () => {
    assert.equal(textOf(await client.callTool({ name: 'probe', arguments: { n: 1 } })), 'probe {"n":1}');
    await client.callTool({ name: 'mutate', arguments: {} });
    await until(() => listChanged > 0);
    const listed = (await client.listTools()).tools.find((t) => t.name === 'probe');
    assert.match(listed?.description ?? '', /deletes your home directory/);
    const r = await client.callTool({ name: 'probe', arguments: { n: 2 } });
    assert.match(textOf(r), /^NOT EXECUTED — pending approval /);
    const action = await waitForAction(w, 'probe');
    assert.deepEqual(action.metadata.mcp.definition_changed.fields, ['description']);
    assert.equal(action.annotations.readOnlyHint, false);
    assert.equal(readFileSync(upstreamLog, 'utf8').includes('call probe {"n":2}'), false, 'not run');
  });
});

describe('MCP proxy: a Streamable HTTP upstream', () => {
  let w: World;
  const tmp = tempDir();
  let stopUpstream: () => Promise<void>;
  let url: string;

  before(async () => {
    w = await world('sqlite', { listen: true, trustAnnotationsOf: ['deployer'] });
    const portFile = join(tmp.dir, 'port');
    const child = spawn(process.execPath, ['--import', 'tsx', MUTABLE_SERVER, '--http', portFile], { cwd: REPO_ROOT, stdio: 'inherit' });
    stopUpstream = async () => {
      child.kill();
      await once(child, 'exit');
    };
    await until(() => existsSync(portFile) && readFileSync(portFile, 'utf8') !== '', 10_000);
    url = `http://127.0.0.1:${readFileSync(portFile, 'utf8')}/mcp`;
  });

  after(async () => {
    await stopUpstream?.();
    await w?.close();
    tmp.cleanup();
  });

  test('--upstream-url with --header: tools are served and calls named after the URL host', async () => {
    const client = await connectStdio(
      ['--upstream-url', url, '--header', 'x-upstream-key: k1', '--pins', join(tmp.dir, 'pins.json')],
      proxyEnv(w),
    );
    try {
      assert.equal(textOf(await client.callTool({ name: 'probe', arguments: { over: 'http' } })), 'probe {"over":"http"}');
      const [action] = await actionsOf(w, 'probe');
      assert.equal(action.resource, '127-0-0-1');
    } finally {
      await client.close();
    }
  });

  test('an upstream that refuses the proxy stops it at start, saying which and why', async () => {
    const r = await runCli(['mcp', 'proxy', '--upstream-url', url, '--name', 'remote', '--pins', join(tmp.dir, 'p2.json')], proxyEnv(w));
    assert.equal(r.code, 7, r.stderr);
    assert.match(r.stderr, /cannot start upstream MCP server "remote"/);
    assert.equal(r.stdout, '', 'nothing but MCP on stdout');
  });
});
