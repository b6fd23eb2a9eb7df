/*
 * Upstream resources and prompts through `countersign mcp proxy`, without approval, driven by the
 * MCP SDK's own client. The upstream is @modelcontextprotocol/server-everything from npm (static
 * and templated resources, subscriptions, prompts, completions), twice for collisions, next to a
 * small fixture (test/fixtures/mcp-context-server.ts) for a prompt list that changes and for
 * names and URIs that collide with server-everything's. Over HTTP: mcp-passthrough-http.test.ts.
 */
// biome-ignore-all lint/suspicious/noExplicitAny: gateway JSON bodies and SDK errors; the tests assert their shape
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { matches, mergeFirstWins } from '../src/mcp/resources.js';
import { call, REPO_ROOT, type World, world } from './helpers.js';
import { connectStdio, connectStdioLogged, proxyArgv, proxyEnv, tempDir, writeConfig } from './mcp-helpers.js';
import { CONTEXT_SERVER, everything, FEATURES, GZIP, mcpError, TOGGLE_UPDATES, textOfContents, until } from './mcp-passthrough-helpers.js';

async function actionCount(w: World): Promise<number> {
  return (await call(w, 'GET', '/v1/actions?limit=100', w.keys.alice)).body.items.length;
}

describe('merging resource lists', () => {
  test('a URI a later server lists too is left out and reported, once per server', () => {
    const merged = mergeFirstWins(
      [
        { server: 'a', items: ['x', 'y'] },
        { server: 'b', items: ['y', 'z'] },
        { server: 'c', items: ['y'] },
      ],
      (k) => k,
    );
    assert.deepEqual(merged.items, ['x', 'y', 'z']);
    assert.deepEqual(merged.shadowed, [
      { key: 'y', server: 'b', kept: 'a' },
      { key: 'y', server: 'c', kept: 'a' },
    ]);
  });

  test('a URI fits a template by RFC 6570; a template that does not parse matches nothing', () => {
    assert.equal(matches('demo://text/{id}', 'demo://text/7'), true);
    assert.equal(matches('demo://text/{id}', 'demo://blob/7'), false);
    assert.equal(matches('demo://text/{id', 'demo://text/7'), false);
  });
});

describe('MCP proxy: resources and prompts of server-everything over stdio', () => {
  let w: World;
  let client: Client;
  const tmp = tempDir();
  const notices: string[] = [];

  before(async () => {
    w = await world('sqlite', { listen: true, trustAnnotationsOf: ['deployer'] });
    const config = writeConfig(tmp.dir, { servers: [everything('everything')], pins_file: join(tmp.dir, 'pins.json') });
    client = await connectStdio(['--config', config], proxyEnv(w));
    client.setNotificationHandler('notifications/resources/list_changed', () => void notices.push('resources changed'));
    client.setNotificationHandler('notifications/resources/updated', (n) => void notices.push(`updated ${n.params.uri}`));
  });

  after(async () => {
    await client?.close();
    await w?.close();
    tmp.cleanup();
  });

  test('the proxy declares resources, subscriptions and prompts because its upstream has them', () => {
    const caps = client.getServerCapabilities();
    assert.deepEqual(caps?.resources, { listChanged: true, subscribe: true });
    assert.deepEqual(caps?.prompts, { listChanged: true });
    assert.deepEqual(caps?.completions, {});
    assert.deepEqual(caps?.tools, { listChanged: true });
  });

  test('the upstream resources, resource templates and prompts are listed through the proxy', async () => {
    const uris = (await client.listResources()).resources.map((r) => r.uri);
    assert.ok(uris.includes(FEATURES), uris.join(', '));
    const templates = (await client.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate);
    assert.deepEqual(templates.sort(), ['demo://resource/dynamic/blob/{resourceId}', 'demo://resource/dynamic/text/{resourceId}']);
    const prompts = (await client.listPrompts()).prompts;
    assert.deepEqual(prompts.map((p) => p.name).sort(), ['args-prompt', 'completable-prompt', 'resource-prompt', 'simple-prompt']);
    assert.deepEqual(
      prompts.find((p) => p.name === 'args-prompt')?.arguments?.map((a) => a.name),
      ['city', 'state'],
      'prompt definitions pass through unchanged',
    );
  });

  test('a resource read from an upstream is answered through the proxy', async () => {
    const r = await client.readResource({ uri: FEATURES });
    assert.equal(r.contents[0]?.uri, FEATURES);
    assert.match(textOfContents(r), /^# Everything Server - Features/);
  });

  test('a prompt is got through the proxy with its arguments', async () => {
    const r = await client.getPrompt({ name: 'args-prompt', arguments: { city: 'Paris' } });
    assert.deepEqual(r.messages, [{ role: 'user', content: { type: 'text', text: "What's weather in Paris?" } }]);
  });

  test('argument completion for a prompt is asked of its server', async () => {
    const r = await client.complete({
      ref: { type: 'ref/prompt', name: 'completable-prompt' },
      argument: { name: 'department', value: 'E' },
    });
    assert.deepEqual(r.completion.values, ['Engineering']);
  });

  test('reading resources and getting prompts proposes nothing at the gateway', async () => {
    const before = await actionCount(w);
    await client.listResources();
    await client.readResource({ uri: FEATURES });
    await client.getPrompt({ name: 'simple-prompt' });
    assert.equal(await actionCount(w), before);
  });

  test('an unknown resource URI or prompt name gives an MCP error, and the proxy keeps serving', async () => {
    const unknownUri = await mcpError(client.readResource({ uri: 'demo://nowhere/at/all' }));
    assert.equal(unknownUri.code, -32602);
    assert.match(unknownUri.message, /demo:\/\/nowhere\/at\/all not found/);
    const unknownPrompt = await mcpError(client.getPrompt({ name: 'no-such-prompt' }));
    assert.equal(unknownPrompt.code, -32602);
    assert.match(unknownPrompt.message, /Prompt "no-such-prompt" not found/);
    assert.ok((await client.listPrompts()).prompts.length > 0);
  });

  test('a resource the upstream adds while connected: list_changed reaches the client and it can be read', async () => {
    const uri = 'demo://resource/session/hello.gz';
    const r = await client.callTool({ name: GZIP, arguments: { name: 'hello.gz', data: 'data:text/plain;base64,aGVsbG8=' } });
    assert.notEqual(r.isError, true, JSON.stringify(r));
    await until(() => notices.includes('resources changed'), 'resources/list_changed');
    assert.ok((await client.listResources()).resources.some((x) => x.uri === uri));
    const read = await client.readResource({ uri });
    assert.equal((read.contents[0] as any)?.mimeType, 'application/gzip');
    assert.ok((read.contents[0] as any)?.blob, 'the blob is passed through');
  });

  test("a subscribed resource's updates reach the client", async () => {
    const uri = 'demo://resource/dynamic/text/1';
    await client.subscribeResource({ uri });
    await client.callTool({ name: TOGGLE_UPDATES, arguments: {} });
    try {
      await until(() => notices.includes(`updated ${uri}`), 'notifications/resources/updated');
    } finally {
      await client.callTool({ name: TOGGLE_UPDATES, arguments: {} });
      await client.unsubscribeResource({ uri });
    }
  });
});

describe('MCP proxy: resources and prompts of several upstreams', () => {
  let w: World;
  let client: Client;
  let stderr: () => string;
  const tmp = tempDir();
  let promptsChanged = 0;

  before(async () => {
    w = await world('sqlite', { listen: true, trustAnnotationsOf: ['deployer'] });
    const config = writeConfig(tmp.dir, {
      servers: [
        everything('ev'),
        everything('ev2'),
        { name: 'context', command: process.execPath, args: ['--import', 'tsx', CONTEXT_SERVER] },
      ],
      pins_file: join(tmp.dir, 'pins.json'),
    });
    // Logged, to see the proxy's warning about a URI two servers list.
    ({ client, stderr } = await connectStdioLogged(['--config', config], proxyEnv(w)));
    client.setNotificationHandler('notifications/prompts/list_changed', () => {
      promptsChanged += 1;
    });
  });

  after(async () => {
    await client?.close();
    await w?.close();
    tmp.cleanup();
  });

  test('prompt names collide: the earlier server keeps them, later ones get their server name as prefix', async () => {
    const names = (await client.listPrompts()).prompts.map((p) => p.name);
    for (const n of ['simple-prompt', 'args-prompt', 'ev2__simple-prompt', 'ev2__args-prompt', 'context__simple-prompt', 'broken']) {
      assert.ok(names.includes(n), `${n} in ${names.join(', ')}`);
    }
    assert.equal(names.filter((n) => n === 'simple-prompt').length, 1);
  });

  test("every page of an upstream's lists is read, and the client gets them in one page", async () => {
    // The raw request: the SDK's listPrompts() would walk the proxy's pages and hide a cursor.
    const prompts = await client.request({ method: 'prompts/list', params: {} });
    assert.equal(prompts.nextCursor, undefined);
    assert.ok(
      prompts.prompts.some((p) => p.name === 'broken'),
      'the second page of the fixture',
    );
    const resources = await client.request({ method: 'resources/list', params: {} });
    assert.equal(resources.nextCursor, undefined);
    assert.ok(resources.resources.some((r) => r.uri === 'fixture://notes/hello'));
  });

  test('a prefixed prompt reaches its own server under its own name', async () => {
    const r = await client.getPrompt({ name: 'context__simple-prompt' });
    assert.deepEqual(r.messages[0]?.content, { type: 'text', text: 'simple-prompt from the fixture' });
    const ev2 = await client.getPrompt({ name: 'ev2__args-prompt', arguments: { city: 'Oslo' } });
    assert.deepEqual(ev2.messages[0]?.content, { type: 'text', text: "What's weather in Oslo?" });
  });

  test('a URI several servers list is listed once and served by the earliest, with a warning', async () => {
    const uris = (await client.listResources()).resources.map((r) => r.uri);
    assert.equal(uris.filter((u) => u === FEATURES).length, 1);
    assert.ok(uris.includes('fixture://notes/hello'));
    assert.match(textOfContents(await client.readResource({ uri: FEATURES })), /^# Everything Server - Features/);
    assert.equal(textOfContents(await client.readResource({ uri: 'fixture://notes/hello' })), 'hello from the fixture');
    await until(() => stderr().includes(`two upstream servers list ${FEATURES}`), 'the warning');
    assert.match(stderr(), /served by \\?"ev\\?" \(earlier in the list\), not \\?"context\\?"/);
  });

  test('a URI nobody listed is routed by the template it matches', async () => {
    const r = await client.readResource({ uri: 'demo://resource/dynamic/text/7' });
    assert.match(textOfContents(r), /^Resource 7: /);
  });

  test('with several servers, a URI none of them lists or templates is refused by the proxy', async () => {
    const e = await mcpError(client.readResource({ uri: 'elsewhere://x' }));
    assert.equal(e.code, -32602);
    assert.match(e.message, /no upstream server lists it or has a template for it/);
  });

  test('an upstream error comes back as an MCP error naming the server', async () => {
    const e = await mcpError(client.getPrompt({ name: 'broken' }));
    assert.equal(e.code, -32603);
    assert.match(e.message, /the fixture prompt broke \(upstream server "context"\)/);
  });

  test('subscribing to a resource of a server without subscriptions is refused', async () => {
    const e = await mcpError(client.subscribeResource({ uri: 'fixture://notes/hello' }));
    assert.equal(e.code, -32602);
    assert.match(e.message, /"context", which does not support resource subscriptions/);
  });

  test('a prompt added upstream while connected: list_changed reaches the client and the prompt can be got', async () => {
    await client.callTool({ name: 'add-prompt', arguments: { name: 'fresh' } });
    await until(() => promptsChanged > 0, 'prompts/list_changed');
    assert.ok((await client.listPrompts()).prompts.some((p) => p.name === 'fresh'));
    const r = await client.getPrompt({ name: 'fresh' });
    assert.deepEqual(r.messages[0]?.content, { type: 'text', text: 'fresh from the fixture' });
  });
});

describe('MCP proxy: an upstream without tools', () => {
  let w: World;
  const tmp = tempDir();

  before(async () => {
    w = await world('sqlite', { listen: true, trustAnnotationsOf: ['deployer'] });
  });

  after(async () => {
    await w?.close();
    tmp.cleanup();
  });

  test("a prompts-and-resources-only server: the proxy's stdout carries JSON-RPC and nothing else", async () => {
    const config = writeConfig(tmp.dir, {
      servers: [{ name: 'context', command: process.execPath, args: ['--import', 'tsx', CONTEXT_SERVER, '--no-tools'] }],
      pins_file: join(tmp.dir, 'pins.json'),
    });
    const proxy = spawn(process.execPath, proxyArgv(['--config', config]), { env: proxyEnv(w), cwd: REPO_ROOT, stdio: 'pipe' });
    let out = '';
    proxy.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    const send = (msg: object) => proxy.stdin.write(`${JSON.stringify(msg)}\n`);
    const answered = (id: number) => until(() => out.includes(`"id":${id}`), `an answer to request ${id}`, 15_000);
    try {
      send({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
      });
      await answered(1);
      send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
      send({ jsonrpc: '2.0', id: 3, method: 'tools/list' });
      send({ jsonrpc: '2.0', id: 4, method: 'prompts/list' });
      await answered(4);
      await answered(3);
      const lines = out.split('\n').filter((l) => l !== '');
      for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), `not JSON-RPC on stdout: ${line}`);
      const tools = lines.map((l) => JSON.parse(l)).find((m) => m.id === 3);
      assert.deepEqual(
        tools.result.tools.map((t: { name: string }) => t.name),
        ['countersign_status', 'countersign_wait'],
      );
    } finally {
      proxy.kill();
      await once(proxy, 'exit');
    }
  });
});
