import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from '../src/lib/clock.js';
import { SpreadTicker } from '../src/lib/spread-ticker.js';

class Member {
  slice = -1;
  beats = 0;
}

test('every member beats once per period, from one timer, a slice of them per tick', async () => {
  const clock = new FakeClock();
  const beatsPerTick: number[] = [];
  let thisTick = 0;
  const ticker = new SpreadTicker<Member>(clock, 15_000, (m) => {
    m.beats += 1;
    thisTick += 1;
  });
  const members = Array.from({ length: 30 }, () => new Member());
  for (const m of members) ticker.add(m);
  assert.equal(clock.pendingTimers(), 1, 'one timer for all of them');
  for (let tick = 0; tick < 15; tick++) {
    thisTick = 0;
    await clock.advance(1000);
    beatsPerTick.push(thisTick);
  }
  assert.deepEqual(
    members.map((m) => m.beats),
    members.map(() => 1),
  );
  assert.deepEqual(beatsPerTick, Array(15).fill(2), 'spread evenly over the period, never all at once');
  await clock.advance(15_000);
  assert.deepEqual(
    members.map((m) => m.beats),
    members.map(() => 2),
  );
});

test('a member that left beats no more, and the timer stops when the last one leaves', async () => {
  const clock = new FakeClock();
  const ticker = new SpreadTicker<Member>(clock, 15_000, (m) => {
    m.beats += 1;
  });
  const [a, b] = [new Member(), new Member()];
  ticker.add(a);
  ticker.add(b);
  ticker.delete(a);
  await clock.advance(15_000);
  assert.equal(a.beats, 0);
  assert.equal(b.beats, 1);
  ticker.delete(b);
  assert.equal(ticker.size, 0);
  assert.equal(clock.pendingTimers(), 0);
});

test('a member that leaves while its slice beats (its write failed) does not stop the others', async () => {
  const clock = new FakeClock();
  const members = Array.from({ length: 30 }, () => new Member());
  const ticker = new SpreadTicker<Member>(clock, 15_000, (m) => {
    m.beats += 1;
    ticker.delete(m);
  });
  for (const m of members) ticker.add(m);
  await clock.advance(15_000);
  assert.deepEqual(
    members.map((m) => m.beats),
    members.map(() => 1),
  );
  assert.equal(ticker.size, 0);
});
