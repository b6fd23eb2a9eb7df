import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eventually, headSeq } from './cross-node-helpers.js';
import { forEachDialect, propose, type World, world } from './helpers.js';
import { SseClient } from './sse-client.js';

/** What retention does (the consumers' part): old events gone from the outbox, audit entries kept. */
async function deleteEventsThrough(w: World, seq: number): Promise<void> {
  await w.gw.deps.db.write.deleteFrom('events').where('seq', '<=', seq).execute();
}

forEachDialect('resuming an event stream after retention', (dialect) => {
  let w: World;
  let kept: number;
  let head: number;
  before(async () => {
    w = await world(dialect, { listen: true });
    for (let i = 0; i < 3; i++) await propose(w);
    head = await headSeq(w.gw.deps);
    kept = head - 2;
    await deleteEventsThrough(w, kept - 1);
  });
  after(() => w.close());

  test('a resume from an id whose successors were deleted starts with a reset naming the oldest kept id and the head, then goes on live', async () => {
    const stream = await SseClient.open(w.gw.url, w.keys.alice, 'after=1');
    try {
      await eventually('the reset arrived', () => stream.events.length > 0);
      const [reset] = stream.events;
      assert.equal(reset?.event, 'reset');
      assert.equal(reset?.id, String(head));
      assert.deepEqual(reset?.data, { reason: 'events_deleted', requested_after: 1, oldest_available: kept, head });
      const created = (await propose(w)).body;
      await stream.waitFor('action.created', created.id);
      // Nothing from before the head was replayed after the reset.
      assert.ok(stream.events.slice(1).every((e) => e.data.event_id > head));
    } finally {
      stream.close();
    }
  });

  test('a resume from the last deleted id loses nothing, so it replays what is kept with no reset', async () => {
    const stream = await SseClient.open(w.gw.url, w.keys.alice, `after=${kept - 1}`);
    try {
      await eventually('the kept events were replayed', () => stream.events.some((e) => e.data.event_id === head));
      assert.equal(
        stream.events.some((e) => e.event === 'reset'),
        false,
      );
      assert.equal(stream.events[0]?.data.event_id, kept);
    } finally {
      stream.close();
    }
  });
});
