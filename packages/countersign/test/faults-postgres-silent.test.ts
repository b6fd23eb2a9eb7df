import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { call, PG_URL, propose, type World, world } from './helpers.js';

/**
 * A TCP relay to PostgreSQL that can go silent, as a database host that drops packets does (rather than
 * refusing them, which the restart test covers): the connections it relays are cut, and new ones are
 * accepted and never answered.
 */
async function silenceableRelay(target: URL) {
  let silent = false;
  const open = new Set<Socket>();
  const server = createServer((client) => {
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => undefined);
    if (silent) return;
    const upstream = connect(Number(target.port || 5432), target.hostname);
    open.add(upstream);
    upstream.on('close', () => open.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = new URL(target);
  url.port = String((server.address() as AddressInfo).port);
  const cutAll = () => {
    for (const s of open) s.destroy();
  };
  return {
    url: url.toString(),
    silence() {
      silent = true;
      cutAll();
    },
    resume() {
      silent = false;
      cutAll();
    },
    async close() {
      cutAll();
      server.close();
    },
  };
}

describe('a PostgreSQL host that goes silent', () => {
  let relay: Awaited<ReturnType<typeof silenceableRelay>>;
  let w: World;

  before(async () => {
    relay = await silenceableRelay(new URL(PG_URL));
    w = await world('postgres', {
      // Queries go through the relay; the LISTEN connection straight to the server, so only the pool is cut off.
      config: (c) => ({ ...c, database: { ...c.database, url: relay.url, listenUrl: PG_URL, connectTimeoutMs: 300 } }),
    });
  });
  after(async () => {
    relay.resume();
    await w?.close();
    await relay?.close();
  });

  test('answers 503 unavailable once the connect time-out passes, not when TCP gives up, and serves again when it answers', async () => {
    assert.equal((await propose(w)).status, 201);

    relay.silence();
    const read = await call(w, 'GET', '/v1/actions?limit=1', w.keys.alice);
    assert.equal(read.status, 503, JSON.stringify(read.body));
    assert.equal(read.body.error.code, 'unavailable');
    assert.equal(read.body.error.details.reason, 'database_unreachable');
    const write = await propose(w);
    assert.equal(write.status, 503, JSON.stringify(write.body));
    assert.equal(write.body.error.details.reason, 'database_unreachable');

    relay.resume();
    const back = await propose(w);
    assert.equal(back.status, 201, JSON.stringify(back.body));
  });
});
