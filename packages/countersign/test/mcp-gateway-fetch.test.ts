/* The proxy's gateway fetch (node:http, kept alive) against a real HTTP server, next to the platform's fetch. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { createGatewayFetch, type GatewayFetch } from '../src/mcp/gateway-fetch.js';

type Handler = (req: http.IncomingMessage, body: string, res: http.ServerResponse) => void;

describe('the gateway fetch', () => {
  let server: http.Server;
  let url: string;
  let handler: Handler;
  let connections: number;
  let gf: GatewayFetch;

  beforeEach(async () => {
    connections = 0;
    server = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => handler(req, body, res));
    });
    server.on('connection', () => (connections += 1));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    gf = createGatewayFetch();
  });

  afterEach(async () => {
    gf.close();
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });

  test('answers a JSON request as the platform fetch does: status, headers (repeated ones too) and body', async () => {
    handler = (req, body, res) => {
      res.writeHead(201, [
        ['content-type', 'application/json'],
        ['x-seen', `${req.method} ${req.url} ${req.headers.authorization} ${req.headers['content-type']}`],
        ['set-cookie', 'a=1'],
        ['set-cookie', 'b=2'],
      ]);
      res.end(JSON.stringify({ echoed: JSON.parse(body) }));
    };
    const init = { method: 'POST', headers: { authorization: 'Bearer cs_x', 'content-type': 'application/json' }, body: '{"ü":"✓"}' };
    const ours = await gf.fetch(`${url}/v1/actions?redeem=true`, init);
    const platform = await fetch(`${url}/v1/actions?redeem=true`, init);
    for (const r of [ours, platform]) {
      assert.equal(r.status, 201);
      assert.equal(r.ok, true);
      assert.equal(r.headers.get('x-seen'), 'POST /v1/actions?redeem=true Bearer cs_x application/json');
      assert.deepEqual(r.headers.getSetCookie(), ['a=1', 'b=2']);
    }
    assert.deepEqual(await ours.json(), { echoed: { ü: '✓' } });
    assert.deepEqual(await platform.json(), { echoed: { ü: '✓' } });
  });

  test('a whole answer reads once, as text or JSON, and is also there as a stream, a clone or bytes', async () => {
    handler = (_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ü":"✓"}');
    };
    const text = await gf.fetch(`${url}/v1/me`);
    assert.equal(text.bodyUsed, false);
    assert.equal(await text.text(), '{"ü":"✓"}');
    assert.equal(text.bodyUsed, true);
    await assert.rejects(text.json(), TypeError);
    const streamed = await gf.fetch(`${url}/v1/me`);
    const reader = (streamed.body as ReadableStream<Uint8Array>).getReader();
    assert.equal(new TextDecoder().decode((await reader.read()).value), '{"ü":"✓"}');
    const cloned = await gf.fetch(`${url}/v1/me`);
    assert.deepEqual(await cloned.clone().json(), { ü: '✓' });
    assert.equal(new TextDecoder().decode(await cloned.arrayBuffer()), '{"ü":"✓"}');
  });

  test('headers given as an object, a Headers or pairs arrive alike, names in lower case', async () => {
    const seen: (string | undefined)[] = [];
    handler = (req, _body, res) => {
      seen.push(`${req.headers['x-one']} ${req.headers.authorization}`);
      res.end('{}');
    };
    const given = [
      { 'X-One': '1', authorization: 'Bearer a' },
      new Headers({ 'X-One': '1', authorization: 'Bearer a' }),
      [
        ['X-One', '1'],
        ['authorization', 'Bearer a'],
      ] as [string, string][],
    ];
    for (const headers of given) await (await gf.fetch(`${url}/v1/me`, { headers })).text();
    assert.deepEqual(seen, ['1 Bearer a', '1 Bearer a', '1 Bearer a']);
  });

  test('an error status comes back as a response, not a failure', async () => {
    handler = (_req, _body, res) => {
      res.writeHead(409, { 'content-type': 'application/json' });
      res.end('{"error":{"code":"conflict","message":"no"}}');
    };
    const r = await gf.fetch(`${url}/v1/x`, { method: 'POST', body: '{}' });
    assert.equal(r.status, 409);
    assert.equal(r.ok, false);
    assert.deepEqual(await r.json(), { error: { code: 'conflict', message: 'no' } });
  });

  test('a redirect is answered as it is, not followed', async () => {
    let requests = 0;
    handler = (_req, _body, res) => {
      requests += 1;
      res.writeHead(301, { location: '/elsewhere' });
      res.end();
    };
    const r = await gf.fetch(`${url}/v1/actions`, { method: 'POST', body: '{}' });
    assert.equal(r.status, 301);
    assert.equal(r.headers.get('location'), '/elsewhere');
    assert.equal(requests, 1);
  });

  test('requests one after another share one kept-alive connection', async () => {
    handler = (_req, _body, res) => res.end('{}');
    for (let i = 0; i < 5; i++) assert.equal(await (await gf.fetch(`${url}/v1/me`)).text(), '{}');
    assert.equal(connections, 1);
  });

  test('a kept-alive connection the server drops as it is reused is tried once more on a new one', async () => {
    let requests = 0;
    handler = (req, _body, res) => {
      requests += 1;
      // The second request arrives on the reused connection, which the server then drops unanswered.
      if (requests === 2) req.socket.destroy();
      else res.end(`{"n":${requests}}`);
    };
    assert.deepEqual(await (await gf.fetch(`${url}/v1/me`)).json(), { n: 1 });
    assert.deepEqual(await (await gf.fetch(`${url}/v1/me`)).json(), { n: 3 });
    assert.equal(connections, 2);
  });

  test('a connection refused is a failure, as with the platform fetch', async () => {
    handler = (_req, _body, res) => res.end('{}');
    const closed = `http://127.0.0.1:1`;
    await assert.rejects(gf.fetch(`${closed}/v1/me`), /ECONNREFUSED/);
  });

  test('an event stream is handed on as it arrives, before the server has finished it', async () => {
    let finish!: () => void;
    handler = (_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('id: 1\ndata: first\n\n');
      finish = () => res.end('id: 2\ndata: second\n\n');
    };
    const r = await gf.fetch(`${url}/v1/events`);
    const reader = (r.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    assert.equal(new TextDecoder().decode(first.value), 'id: 1\ndata: first\n\n');
    finish();
    let rest = '';
    for (let c = await reader.read(); !c.done; c = await reader.read()) rest += new TextDecoder().decode(c.value);
    assert.equal(rest, 'id: 2\ndata: second\n\n');
  });

  test('aborting the signal ends a request in flight with an AbortError', async () => {
    handler = () => undefined; // never answers
    const ctl = new AbortController();
    const pending = gf.fetch(`${url}/v1/actions/x?wait=30`, { signal: ctl.signal });
    ctl.abort();
    await assert.rejects(pending, (e: Error) => e.name === 'AbortError');
  });
});
