/*
 * Upstream resources and prompts through `countersign mcp proxy --listen`, in both protocol eras:
 * a 2025-era session may subscribe to resources, a 2026-07-28 client hears list_changed on its
 * listen stream but is offered no resource subscriptions. The upstream is server-everything.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client, type ClientOptions, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { type World, world } from './helpers.js';
import { type ListeningProxy, proxyEnv, startListening, tempDir, writeConfig } from './mcp-helpers.js';
import { everything, FEATURES, GZIP, textOfContents, until } from './mcp-passthrough-helpers.js';

describe('MCP proxy: resources and prompts over Streamable HTTP', () => {
  const TOKEN = 'test-token-0123456789abcdef';
  const MODERN: ClientOptions = { versionNegotiation: { mode: { pin: '2026-07-28' } } };
  let w: World;
  let proxy: ListeningProxy;
  const tmp = tempDir();
  const clients: Client[] = [];

  async function connect(options: ClientOptions = {}): Promise<Client> {
    const client = new Client({ name: 'http-passthrough-test', version: '1.0.0' }, options);
    await client.connect(new StreamableHTTPClientTransport(proxy.url, { requestInit: { headers: { authorization: `Bearer ${TOKEN}` } } }));
    clients.push(client);
    return client;
  }

  before(async () => {
    w = await world('sqlite', { listen: true, trustAnnotationsOf: ['deployer'] });
    const config = writeConfig(tmp.dir, { servers: [everything('everything')], pins_file: join(tmp.dir, 'pins.json') });
    proxy = await startListening(['--config', config], proxyEnv(w, { COUNTERSIGN_MCP_TOKEN: TOKEN }));
  });

  after(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await proxy?.stop();
    await w?.close();
    tmp.cleanup();
  });

  test('a 2025-era session reads resources, gets prompts and may subscribe', async () => {
    const client = await connect();
    assert.equal(client.getServerCapabilities()?.resources?.subscribe, true);
    assert.match(textOfContents(await client.readResource({ uri: FEATURES })), /^# Everything Server - Features/);
    assert.equal((await client.getPrompt({ name: 'simple-prompt' })).messages.length, 1);
    await client.subscribeResource({ uri: FEATURES });
    await client.unsubscribeResource({ uri: FEATURES });
  });

  test('a 2026-07-28 client reads resources and hears list_changed, but is offered no subscriptions', async () => {
    const client = await connect(MODERN);
    assert.equal(client.getServerCapabilities()?.resources?.subscribe, undefined);
    assert.match(textOfContents(await client.readResource({ uri: FEATURES })), /^# Everything Server - Features/);
    let changed = 0;
    client.setNotificationHandler('notifications/resources/list_changed', () => {
      changed += 1;
    });
    const sub = await client.listen({ resourcesListChanged: true, promptsListChanged: true, resourceSubscriptions: [FEATURES] });
    try {
      assert.deepEqual(sub.honoredFilter, { resourcesListChanged: true, promptsListChanged: true });
      await client.callTool({ name: GZIP, arguments: { name: 'over-http.gz', data: 'data:text/plain;base64,aGVsbG8=' } });
      await until(() => changed > 0, 'resources/list_changed on the listen stream');
    } finally {
      await sub.close();
    }
  });
});
