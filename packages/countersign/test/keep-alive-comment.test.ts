import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, test } from 'node:test';
import { KEEP_ALIVE, writeKeepAlive } from '../src/http/keep-alive-comment.js';
import { rawExchange } from './raw-http.js';

/** A real HTTP server holding one event-stream response as the gateway does (headers flushed, a preamble), then `then` runs on it. */
async function streamServer(then: (res: http.ServerResponse) => void): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
    res.flushHeaders();
    res.write('retry: 2000\n\n');
    // A later turn, as the shared heartbeat's would be.
    setTimeout(() => {
      then(res);
      res.end();
    }, 20);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const servers: { close: () => Promise<void> }[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

test('a keep-alive on an idle chunked stream goes out as one well-formed chunk holding the comment', async () => {
  const s = await streamServer((res) => writeKeepAlive(res));
  servers.push(s);
  const { text } = await rawExchange(s.url, ['GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
  assert.match(text, /transfer-encoding: chunked/i);
  const body = text.slice(text.indexOf('\r\n\r\n') + 4);
  assert.equal(body, 'd\r\nretry: 2000\n\n\r\ne\r\n: keep-alive\n\n\r\n0\r\n\r\n');
});

test('keep-alives written between events in one turn keep their order, and a client reads the stream whole', async () => {
  const s = await streamServer((res) => {
    // The first goes straight to the idle socket; the second finds the event before it still queued.
    writeKeepAlive(res);
    res.write('data: a\n\n');
    writeKeepAlive(res);
    res.write('data: b\n\n');
  });
  servers.push(s);
  const res = await fetch(s.url);
  assert.equal(await res.text(), `retry: 2000\n\n${KEEP_ALIVE}data: a\n\n${KEEP_ALIVE}data: b\n\n`);
});

test('an HTTP/1.0 client, whose body is not chunked, gets the comment unframed', async () => {
  const s = await streamServer((res) => writeKeepAlive(res));
  servers.push(s);
  const { text } = await rawExchange(s.url, ['GET / HTTP/1.0\r\n\r\n']);
  assert.doesNotMatch(text, /transfer-encoding/i);
  assert.equal(text.slice(text.indexOf('\r\n\r\n') + 4), `retry: 2000\n\n${KEEP_ALIVE}`);
});
