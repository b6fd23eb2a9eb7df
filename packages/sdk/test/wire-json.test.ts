import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type World, world } from '../../countersign/test/helpers.js';
import { type CountersignError, createClient } from '../src/index.js';

let w: World;
before(async () => {
  w = await world('sqlite', { listen: true });
});
after(async () => w.close());

const client = () => createClient({ url: w.gw.url, apiKey: w.keys.agent });

test('a value JSON cannot carry is refused by the client with a clear error, and nothing is sent', async () => {
  const sent: string[] = [];
  const spy: typeof fetch = (input, init) => {
    sent.push(String(input));
    return fetch(input, init);
  };
  const cs = createClient({ url: w.gw.url, apiKey: w.keys.agent, fetch: spy });
  for (const [value, message] of [
    [Number.NaN, /"n" is NaN/],
    [Number.POSITIVE_INFINITY, /"n" is Infinity/],
    [10n, /"n" is a BigInt.*send it as a string/],
  ] as const) {
    await assert.rejects(
      cs.propose({ tool: 'deploy', arguments: { n: value } }),
      (e: CountersignError) => e.code === 'invalid_request' && message.test(e.message),
    );
  }
  assert.deepEqual(sent, []);
});

test('an integer beyond ±(2^53−1) reaches the caller as the gateway’s invalid_request, not as a different number', async () => {
  await assert.rejects(
    client().propose({ tool: 'deploy', arguments: { n: 2 ** 60 } }),
    (e: CountersignError) => e.code === 'invalid_request' && e.status === 400 && /arguments\.n/.test(e.message),
  );
});
