import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import pino from 'pino';
import { LazyRequestLogger } from '../src/http/lazy-request-logger.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const parent = pino({ level: 'info' }, stream);
  let children = 0;
  const child = parent.child.bind(parent);
  parent.child = ((...args: Parameters<typeof child>) => {
    children += 1;
    return child(...args);
  }) as typeof parent.child;
  return { parent, lines, children: () => children };
}

test('a request that logs nothing never makes a child logger', () => {
  const { parent, children } = capture();
  const log = LazyRequestLogger.factory(parent, { reqId: 'req-1' }, {});
  assert.equal(log.level, 'info', 'its level is the parent’s');
  assert.equal(children(), 0);
});

test('what a request logs carries its request id, as the child Fastify would have made', async () => {
  const { parent, lines, children } = capture();
  const log = LazyRequestLogger.factory(parent, { reqId: 'req-1' }, {});
  log.error({ err: new Error('boom') }, 'request failed');
  log.debug('below the level: not written');
  log.warn('and a second line');
  await new Promise((r) => setImmediate(r));
  assert.equal(children(), 1, 'one child, made on the first line');
  assert.deepEqual(
    lines.map((l) => [l.reqId, l.msg]),
    [
      ['req-1', 'request failed'],
      ['req-1', 'and a second line'],
    ],
  );
  assert.equal((lines[0]?.err as { message?: string } | undefined)?.message, 'boom');
});

test('a route-level log level applies to the child it makes', async () => {
  const { parent, lines } = capture();
  const log = LazyRequestLogger.factory(parent, { reqId: 'req-2' }, { level: 'warn' });
  assert.equal(log.level, 'warn');
  log.info('below the route’s level');
  log.warn('at it');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(
    lines.map((l) => l.msg),
    ['at it'],
  );
});
