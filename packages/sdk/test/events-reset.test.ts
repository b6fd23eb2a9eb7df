import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eventually, headSeq } from '../../countersign/test/cross-node-helpers.js';
import { forEachDialect, propose, type World, world } from '../../countersign/test/helpers.js';
import { createClient, EventsReset } from '../src/index.js';

forEachDialect('following events from before retention’s floor', (dialect) => {
  let w: World;
  let kept: number;
  let head: number;
  before(async () => {
    w = await world(dialect, { listen: true });
    for (let i = 0; i < 3; i++) await propose(w);
    head = await headSeq(w.gw.deps);
    kept = head - 2;
    // What retention does: old events gone from the outbox.
    await w.gw.deps.db.write.deleteFrom('events').where('seq', '<', kept).execute();
  });
  after(() => w.close());

  test('the SDK’s follower throws EventsReset by default, so a gap is never silent', async () => {
    const cs = createClient({ url: w.gw.url, apiKey: w.keys.alice });
    const signal = AbortSignal.timeout(20_000);
    await assert.rejects(
      async () => {
        for await (const _ of cs.events({}, { after: 1, signal })) assert.fail('no event may come before the reset');
      },
      (e: unknown) => e instanceof EventsReset && e.requestedAfter === 1 && e.oldestAvailable === kept && e.head >= head,
    );
  });

  test('with onReset the SDK’s follower reports the reset and goes on from the head', async () => {
    const cs = createClient({ url: w.gw.url, apiKey: w.keys.alice });
    const abort = new AbortController();
    const resets: EventsReset[] = [];
    const seen: number[] = [];
    const following = (async () => {
      for await (const ev of cs.events({}, { after: 1, signal: abort.signal, onReset: (r) => void resets.push(r) })) {
        seen.push(ev.event_id);
        if (ev.type === 'action.created') abort.abort();
      }
    })();
    await eventually('the reset was reported', () => resets.length === 1);
    await propose(w);
    await following;
    assert.equal(resets[0]?.requestedAfter, 1);
    assert.ok(seen.length > 0);
    assert.ok(seen.every((id) => id > (resets[0]?.head ?? Number.POSITIVE_INFINITY)));
  });
});
