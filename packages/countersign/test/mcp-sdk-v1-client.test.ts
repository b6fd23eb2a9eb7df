/*
 * The MCP TypeScript SDK v1 client (`@modelcontextprotocol/sdk` 1.x), which most MCP clients in the field
 * still embed, through the proxy: over stdio (the client spawns the proxy, as Claude Code or Cursor do)
 * and over Streamable HTTP with the bearer token as a header. The proxy itself is built on SDK v2, so
 * this is the cross-version check. (The MCP Inspector 2 needs Node 22.19+, which this suite does not
 * assume; its commands are in docs/mcp-proxy.md.)
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { REPO_ROOT, review, type World, world } from './helpers.js';
import {
  FS_SERVER,
  type ListeningProxy,
  proxyArgv,
  proxyEnv,
  startListening,
  tempDir,
  textOf,
  waitForAction,
  writeConfig,
} from './mcp-helpers.js';

const TOKEN = 'sdk-v1-token-0123456789';

describe('an MCP SDK v1 client through the proxy', () => {
  let w: World;
  let listening: ListeningProxy;
  let config: string;
  const tmp = tempDir();
  const clients: Client[] = [];

  async function overStdio(): Promise<Client> {
    const client = new Client({ name: 'sdk-v1-test', version: '1.0.0' });
    await client.connect(
      new StdioClientTransport({ command: process.execPath, args: proxyArgv(['--config', config]), env: proxyEnv(w), cwd: REPO_ROOT }),
    );
    clients.push(client);
    return client;
  }

  async function overHttp(token: string): Promise<Client> {
    const client = new Client({ name: 'sdk-v1-test', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(listening.url, { requestInit: { headers: { Authorization: `Bearer ${token}` } } }),
    );
    clients.push(client);
    return client;
  }

  before(async () => {
    w = await world('sqlite', { listen: true, trustAnnotationsOf: ['deployer'] });
    writeFileSync(join(tmp.dir, 'hi.txt'), 'v1 client says hi');
    config = writeConfig(tmp.dir, {
      servers: [{ name: 'fs', command: process.execPath, args: [FS_SERVER, tmp.dir] }],
      pins_file: join(tmp.dir, 'pins.json'),
    });
    listening = await startListening(['--config', config], proxyEnv(w, { COUNTERSIGN_MCP_TOKEN: TOKEN }));
  });

  after(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await listening?.stop();
    await w?.close();
    tmp.cleanup();
  });

  test('over stdio it lists the upstream tools and the proxy’s own', async () => {
    const { tools } = await (await overStdio()).listTools();
    const names = tools.map((t) => t.name);
    assert.ok(names.includes('read_text_file') && names.includes('write_file') && names.includes('countersign_wait'), names.join(' '));
  });

  test('over stdio a held write_file completes once a person approves it while the client waits', async () => {
    const client = await overStdio();
    const file = join(tmp.dir, 'from-v1.txt');
    const result = client.callTool({ name: 'write_file', arguments: { path: file, content: 'approved via sdk v1' } }, undefined, {
      timeout: 60_000,
    });
    const action = await waitForAction(w, 'write_file', 'pending', 20_000);
    await review(w, action.id, w.keys.alice, { decision: 'approve' });
    const r = await result;
    assert.notEqual(r.isError, true, JSON.stringify(r));
    assert.equal(readFileSync(file, 'utf8'), 'approved via sdk v1');
  });

  test('over Streamable HTTP with the bearer token it calls a tool', async () => {
    const r = await (await overHttp(TOKEN)).callTool({ name: 'read_text_file', arguments: { path: join(tmp.dir, 'hi.txt') } });
    assert.equal(textOf(r), 'v1 client says hi');
  });

  test('over Streamable HTTP a wrong bearer token is refused before any tool is listed', async () => {
    await assert.rejects(overHttp('not-the-token-0123456789'), /missing or wrong bearer token/);
  });
});
