/**
 * What one keep-alive write on an open event stream allocates (issue 19: an idle gateway with 10,000 SSE
 * streams). N held chunked responses, as the gateway holds them (headers flushed, a `retry:` preamble), read
 * by clients in a child process so only the server side is counted; then every stream gets R keep-alives by
 * each method, and the JS heap's growth between two points with no collection in between (the young
 * generation is made large enough) is divided by the writes. Bytes, so the machine's load does not move it.
 *
 *   node --import tsx --expose-gc --min-semi-space-size=128 --max-semi-space-size=128 bench/keep-alive-writes.ts
 */
import { fork } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { KEEP_ALIVE, writeKeepAlive } from '../packages/countersign/src/http/keep-alive-comment.js';

const N = Number(process.env.BENCH_STREAMS ?? 2000);
const ROUNDS = 5;

if (process.argv[2] === 'clients') {
  const port = Number(process.argv[3]);
  for (let i = 0; i < N; i++)
    await new Promise<void>((resolve) => {
      http.get({ port, host: '127.0.0.1', agent: false, path: '/' }, (res) => {
        res.on('data', () => undefined);
        resolve();
      });
    });
  process.send?.('ready');
  setInterval(() => undefined, 1 << 30);
} else {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc (and --min-semi-space-size=128 --max-semi-space-size=128)');
  const held: http.ServerResponse[] = [];
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
    res.flushHeaders();
    res.write('retry: 2000\n\n');
    held.push(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const clients = fork(fileURLToPath(import.meta.url), ['clients', String((server.address() as AddressInfo).port)], {
    execArgv: ['--import', 'tsx'],
  });
  await new Promise((resolve) => clients.once('message', resolve));
  const methods: Record<string, (res: http.ServerResponse) => void> = {
    'res.write(string)': (res) => res.write(KEEP_ALIVE),
    'writeKeepAlive (pre-framed chunk to the socket)': writeKeepAlive,
  };
  console.log(`${N} held event streams, ${ROUNDS} keep-alives each; load average ${os.loadavg()[0]?.toFixed(2)}`);
  for (let pass = 0; pass < 2; pass++)
    for (const [name, write] of Object.entries(methods)) {
      for (const res of held) write(res); // warm up
      await new Promise((r) => setTimeout(r, 200));
      gc();
      const before = v8.getHeapStatistics().used_heap_size;
      for (let k = 0; k < ROUNDS; k++) {
        for (const res of held) write(res);
        await new Promise((r) => setTimeout(r, 100));
      }
      const bytes = (v8.getHeapStatistics().used_heap_size - before) / (ROUNDS * N);
      console.log(`- ${name}: ${Math.round(bytes)} bytes of heap per write`);
    }
  clients.kill();
  process.exit(0);
}
