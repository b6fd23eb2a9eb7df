import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../src/config/load.js';
import { auditRows, call, propose, type World, world } from './helpers.js';
import { firstResponse, rawExchange } from './raw-http.js';

// Time-outs for receiving a request, against a listening gateway through raw sockets. The limits are
// short here; waits are only ever several times longer than a limit (outcomes, never timings, are
// asserted), and a client that gives up first is a failure.

const HEADERS_MS = 300;
const REQUEST_MS = 600;
const KEEP_ALIVE_MS = 400;
/** Long enough past every limit that a live connection has demonstrably outlived them all. */
const OUTLIVE_MS = 3 * REQUEST_MS;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('request time-outs on a listening gateway', () => {
  let w: World;
  before(async () => {
    w = await world('sqlite', {
      listen: true,
      config: (c) => ({
        ...c,
        server: { ...c.server, headersTimeoutMs: HEADERS_MS, requestTimeoutMs: REQUEST_MS, keepAliveTimeoutMs: KEEP_ALIVE_MS },
      }),
    });
  });
  after(async () => w.close());

  test('a POST whose body stalls after 9 of 100 declared bytes is closed with 408 in the error envelope, and nothing is written', async () => {
    const before = (await auditRows(w)).length;
    const head = [
      'POST /v1/actions HTTP/1.1',
      'Host: gateway',
      `Authorization: Bearer ${w.keys.agent}`,
      'Content-Type: application/json',
      'Content-Length: 100',
      '',
      '',
    ].join('\r\n');
    const r = await rawExchange(w.gw.url, [head, '{"tool":"'], 20 * REQUEST_MS);
    assert.equal(r.closedByServer, true, 'the server closed the connection');
    const res = firstResponse(r.text);
    assert.equal(res.status, 408);
    assert.equal(res.body.error.code, 'invalid_request');
    assert.match(res.body.error.message, /not received in time/);
    assert.equal((await auditRows(w)).length, before);
  });

  test('a request whose headers never finish is closed with 408 in the error envelope', async () => {
    const r = await rawExchange(w.gw.url, ['GET /healthz HTTP/1.1\r\nHost: gateway\r\nX-Slow: '], 20 * REQUEST_MS);
    assert.equal(r.closedByServer, true);
    const res = firstResponse(r.text);
    assert.equal(res.status, 408);
    assert.equal(res.body.error.code, 'invalid_request');
  });

  test('headers trickled a byte at a time are cut off at the headers time-out, however busy the client keeps the socket', async () => {
    const trickle: (string | number)[] = ['GET /healthz HTTP/1.1\r\nHost: gateway\r\n'];
    for (let i = 0; i < 40; i++) trickle.push('X', HEADERS_MS / 6);
    const r = await rawExchange(w.gw.url, trickle, 20 * REQUEST_MS);
    assert.equal(r.closedByServer, true);
    assert.equal(firstResponse(r.text).status, 408);
  });

  test('an idle keep-alive connection is closed after its one answered request', async () => {
    const r = await rawExchange(w.gw.url, ['GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n'], 20 * KEEP_ALIVE_MS);
    assert.equal(r.closedByServer, true, 'the server closed the idle connection');
    assert.equal(firstResponse(r.text).status, 200);
    assert.equal(r.text.match(/HTTP\/1\.1 /g)?.length, 1, 'one response, no error written to an idle socket');
  });

  test('a long-poll held well past the request time-out still answers with the decision', async () => {
    const id = (await propose(w)).body.id;
    const held = fetch(`${w.gw.url}/v1/actions/${id}?wait=30`, { headers: { authorization: `Bearer ${w.keys.agent}` } });
    await sleep(OUTLIVE_MS);
    assert.equal((await call(w, 'POST', `/v1/actions/${id}/reviews`, w.keys.alice, { decision: 'approve' })).status, 200);
    const res = await held;
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { status: string }).status, 'approved');
  });

  test('an event stream open well past every time-out still delivers a new action', async () => {
    const ac = new AbortController();
    const res = await fetch(`${w.gw.url}/v1/events`, { headers: { authorization: `Bearer ${w.keys.alice}` }, signal: ac.signal });
    assert.equal(res.status, 200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    try {
      await sleep(OUTLIVE_MS);
      const id = (await propose(w, { purpose: 'after the time-outs' })).body.id as string;
      let text = '';
      while (!text.includes(id)) {
        const { value, done } = await reader.read();
        assert.equal(done, false, `the stream ended before the event arrived: ${text}`);
        text += new TextDecoder().decode(value);
      }
    } finally {
      ac.abort();
      await reader.cancel().catch(() => undefined);
    }
  });
});

describe('time-out settings', () => {
  const load = (yaml: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-timeouts-'));
    writeFileSync(join(dir, 'c.yaml'), yaml);
    return loadConfig({ file: join(dir, 'c.yaml'), env: {}, cwd: dir });
  };

  test('the defaults close stalled headers in 10 s, stalled requests in 30 s and idle connections in 72 s', () => {
    const { server } = loadConfig({ env: {} });
    assert.deepEqual([server.headersTimeoutMs, server.requestTimeoutMs, server.keepAliveTimeoutMs], [10_000, 30_000, 72_000]);
  });

  test('each time-out is read from the server section as a duration', () => {
    const { server } = load('server:\n  headers_timeout: 5s\n  request_timeout: 2m\n  keep_alive_timeout: 500ms\n');
    assert.deepEqual([server.headersTimeoutMs, server.requestTimeoutMs, server.keepAliveTimeoutMs], [5_000, 120_000, 500]);
  });

  test('a headers time-out longer than the request time-out, or a zero one, is refused naming the key', () => {
    assert.throws(() => load('server:\n  headers_timeout: 1m\n  request_timeout: 30s\n'), /server\.headers_timeout must not be longer/);
    assert.throws(() => load('server:\n  request_timeout: 0\n'), /server\.request_timeout must be at least 100ms/);
  });
});
