/*
 * `countersign mcp proxy --listen`: the proxy served over Streamable HTTP, in front of the real
 * filesystem server, driven by the MCP SDK's own client in both protocol eras: 2025-11-25
 * (sessions) and 2026-07-28 (stateless, with the input_required path for clients that can open
 * a URL). Every request needs the bearer token.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client, type ClientOptions, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { call, review, type World, world } from './helpers.js';
import {
  FS_SERVER,
  type ListeningProxy,
  proxyEnv,
  startListening,
  tempDir,
  textOf,
  waitForAction,
  waitForStatus,
  writeConfig,
} from './mcp-helpers.js';

const TOKEN = 'test-token-0123456789abcdef';
const MODERN: ClientOptions = { versionNegotiation: { mode: { pin: '2026-07-28' } } };

describe('MCP proxy over Streamable HTTP', () => {
  let w: World;
  let proxy: ListeningProxy;
  const tmp = tempDir();
  const clients: Client[] = [];

  async function connect(options: ClientOptions = {}, token = TOKEN): Promise<Client> {
    const client = new Client({ name: 'http-test', version: '1.0.0' }, options);
    await client.connect(new StreamableHTTPClientTransport(proxy.url, { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
    clients.push(client);
    return client;
  }

  before(async () => {
    w = await world('sqlite', { listen: true, trustAnnotationsOf: ['deployer'] });
    writeFileSync(join(tmp.dir, 'hello.txt'), 'hello over http');
    const config = writeConfig(tmp.dir, {
      servers: [{ name: 'fs', command: process.execPath, args: [FS_SERVER, tmp.dir] }],
      hold: { budget: '1s', progress_budget: '6s', progress_interval: '200ms' },
      pins_file: join(tmp.dir, 'pins.json'),
    });
    proxy = await startListening(['--config', config], proxyEnv(w, { COUNTERSIGN_MCP_TOKEN: TOKEN }));
  });

  after(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await proxy?.stop();
    await w?.close();
    tmp.cleanup();
  });

  test('refuses a request without the bearer token, with a wrong one, or with a foreign Host', async () => {
    const init = {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
    };
    const post = (headers: Record<string, string>) =>
      fetch(proxy.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
        body: JSON.stringify(init),
      });
    const none = await post({});
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer /);
    assert.equal((await post({ authorization: 'Bearer not-the-token-at-all' })).status, 401);
    assert.equal((await post({ authorization: `Basic ${TOKEN}` })).status, 401);
    assert.equal(await statusWithHost(proxy.url, 'evil.example', { authorization: `Bearer ${TOKEN}` }, JSON.stringify(init)), 403);
    assert.equal((await post({ authorization: `Bearer ${TOKEN}` })).status, 200, 'the right token is let in');
    await assert.rejects(connect({}, 'wrong-token-0123456789'));
  });

  test('2025-11-25 client: read passes through; write held with progress, approved and written', async () => {
    const client = await connect();
    assert.equal(client.getNegotiatedProtocolVersion(), '2025-11-25');
    assert.equal(
      textOf(await client.callTool({ name: 'read_text_file', arguments: { path: join(tmp.dir, 'hello.txt') } })),
      'hello over http',
    );
    const file = join(tmp.dir, 'legacy.txt');
    const messages: string[] = [];
    const pending = client.callTool(
      { name: 'write_file', arguments: { path: file, content: 'over a session' } },
      { onprogress: (p) => messages.push(p.message ?? '') },
    );
    const action = await waitForAction(w, 'write_file');
    assert.match(action.session_id, /^mcp-http-/);
    await review(w, action.id, w.keys.alice, { decision: 'approve' });
    const r = await pending;
    assert.notEqual(r.isError, true, textOf(r));
    assert.equal(readFileSync(file, 'utf8'), 'over a session');
    assert.ok(messages.some((m) => m.includes(action.id)));
  });

  test('2025-11-25 client: a cancelled call is withdrawn and never runs', async () => {
    const client = await connect();
    const file = join(tmp.dir, 'legacy-cancelled.txt');
    const ac = new AbortController();
    const pending = client.callTool(
      { name: 'write_file', arguments: { path: file, content: 'no' } },
      { signal: ac.signal, onprogress: () => {} },
    );
    const action = await waitForAction(w, 'write_file');
    ac.abort();
    await assert.rejects(pending);
    await waitForStatus(w, action.id, 'cancelled');
    assert.equal((await review(w, action.id, w.keys.alice, { decision: 'approve' })).status, 409);
    assert.equal(existsSync(file), false);
  });

  test('2026-07-28 client: held with progress, approved with edits, written with the edited content', async () => {
    const client = await connect(MODERN);
    assert.equal(client.getNegotiatedProtocolVersion(), '2026-07-28');
    const file = join(tmp.dir, 'modern.txt');
    const pending = client.callTool({ name: 'write_file', arguments: { path: file, content: 'proposed' } }, { onprogress: () => {} });
    const action = await waitForAction(w, 'write_file');
    await review(w, action.id, w.keys.alice, { decision: 'approve', arguments: { path: file, content: 'edited' } });
    const r = await pending;
    assert.notEqual(r.isError, true, textOf(r));
    assert.equal(readFileSync(file, 'utf8'), 'edited');
  });

  test('2026-07-28 client without a progress token: NOT EXECUTED after the budget; the identical stateless retry runs once', async () => {
    const client = await connect(MODERN);
    const file = join(tmp.dir, 'modern-retry.txt');
    const first = await client.callTool({ name: 'write_file', arguments: { path: file, content: 'later' } });
    assert.match(textOf(first), /^NOT EXECUTED — pending approval /);
    const action = await waitForAction(w, 'write_file');
    await review(w, action.id, w.keys.alice, { decision: 'approve' });
    const retry = await client.callTool({ name: 'write_file', arguments: { path: file, content: 'later' } });
    assert.notEqual(retry.isError, true, textOf(retry));
    assert.equal(readFileSync(file, 'utf8'), 'later');
    await waitForStatus(w, action.id, 'executed');
    const all = (await call(w, 'GET', '/v1/actions?tool=write_file&limit=100', w.keys.alice)).body.items;
    assert.equal(all.filter((a: { arguments: { path: string } }) => a.arguments.path === file).length, 1, 'the retry attached');
  });

  test('2026-07-28 client: dropping the request stream cancels the call before approval', async () => {
    const client = await connect(MODERN);
    const file = join(tmp.dir, 'modern-cancelled.txt');
    const ac = new AbortController();
    const pending = client.callTool(
      { name: 'write_file', arguments: { path: file, content: 'no' } },
      { signal: ac.signal, onprogress: () => {} },
    );
    const action = await waitForAction(w, 'write_file');
    ac.abort();
    await assert.rejects(pending);
    await waitForStatus(w, action.id, 'cancelled');
    assert.equal(existsSync(file), false);
  });

  test('2026-07-28 client that can open URLs: input_required sends its user to the review; approved there, the call runs', async () => {
    const file = join(tmp.dir, 'mrtr.txt');
    const client = await connect({ ...MODERN, capabilities: { elicitation: { url: {} } } });
    const asked: { url?: string; message?: string }[] = [];
    client.setRequestHandler('elicitation/create', async (req) => {
      const params = req.params as { mode?: string; url?: string; message?: string };
      asked.push(params);
      // The host's user follows the link and approves there, as a reviewer.
      const id = params.url?.split('/').at(-1) ?? '';
      assert.equal((await review(w, id, w.keys.alice, { decision: 'approve' })).status, 200);
      return { action: 'accept' };
    });
    const r = await client.callTool({ name: 'write_file', arguments: { path: file, content: 'via input_required' } });
    assert.notEqual(r.isError, true, textOf(r));
    assert.equal(readFileSync(file, 'utf8'), 'via input_required');
    assert.equal(asked.length, 1);
    const action = (await call(w, 'GET', `/v1/actions?tool=write_file&limit=1`, w.keys.alice)).body.items[0];
    assert.equal(asked[0]?.url, `${w.gw.url}/actions/${action.id}`);
    assert.match(asked[0]?.message ?? '', /needs approval by role reviewer/);
    await waitForStatus(w, action.id, 'executed');
  });

  test('2026-07-28 client that can open URLs: the user declining withdraws the action', async () => {
    const file = join(tmp.dir, 'mrtr-declined.txt');
    const client = await connect({ ...MODERN, capabilities: { elicitation: { url: {} } } });
    client.setRequestHandler('elicitation/create', async () => ({ action: 'decline' }));
    const r = await client.callTool({ name: 'write_file', arguments: { path: file, content: 'no' } });
    assert.equal(r.isError, true);
    assert.match(textOf(r), /^NOT EXECUTED — the user did not go ahead/);
    const action = (await call(w, 'GET', `/v1/actions?tool=write_file&limit=1`, w.keys.alice)).body.items[0];
    assert.equal(action.status, 'cancelled');
    assert.equal(existsSync(file), false);
  });
});

/** fetch() does not let a caller set Host; a DNS-rebinding page's request does carry a foreign one. */
function statusWithHost(url: URL, host: string, headers: Record<string, string>, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', headers: { ...headers, host, 'content-type': 'application/json', accept: 'application/json, text/event-stream' } },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
