import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forEachDialect, propose, world } from './helpers.js';

forEachDialect('shutdown', (dialect) => {
  test('closing the gateway answers held long-polls with the current state instead of waiting them out', async () => {
    const w = await world(dialect, { listen: true });
    try {
      const { body: a } = await propose(w);
      const baseline = w.gw.deps.bus.listenerCount();
      const held = fetch(`${w.gw.url}/v1/actions/${a.id}?wait=60`, { headers: { authorization: `Bearer ${w.keys.agent}` } });
      // Let the request reach the server and park on the bus.
      while (w.gw.deps.bus.listenerCount() <= baseline) await new Promise((r) => setTimeout(r, 5));
      const closed = w.gw.close();
      const res = await held;
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { status: string }).status, 'pending');
      await closed;
    } finally {
      await w.close();
    }
  });
});
