import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { test } from 'node:test';
import { AbortFanout } from '../src/http/abort-fanout.js';

class Member {
  abortSlot = -1;
  told = 0;
  constructor(readonly onTold: () => void = () => undefined) {}
  handleEvent(): void {
    this.told += 1;
    this.onTold();
  }
}

test('members of one signal share one listener; when it aborts each is told once, except one that left first', () => {
  const fanout = new AbortFanout<Member>();
  const stop = new AbortController();
  const members = Array.from({ length: 5 }, () => new Member());
  for (const m of members) fanout.add(stop.signal, m);
  assert.equal(getEventListeners(stop.signal, 'abort').length, 1);
  const left = members[1] as Member;
  fanout.delete(stop.signal, left);
  fanout.delete(stop.signal, left);
  stop.abort();
  assert.deepEqual(
    members.map((m) => m.told),
    [1, 0, 1, 1, 1],
  );
  assert.equal(fanout.signals(), 0);
  assert.equal(getEventListeners(stop.signal, 'abort').length, 0);
});

test('a member told may leave, and others leave, while the abort is being told, and none is skipped or told twice', () => {
  const fanout = new AbortFanout<Member>();
  const stop = new AbortController();
  const members: Member[] = [];
  // Each told member leaves, as a held request does when it ends (and takes the next one with it).
  for (let i = 0; i < 4; i++)
    members.push(
      new Member(() => {
        fanout.delete(stop.signal, members[i] as Member);
        const next = members[i + 1];
        if (next) fanout.delete(stop.signal, next);
      }),
    );
  for (const m of members) fanout.add(stop.signal, m);
  stop.abort();
  assert.deepEqual(
    members.map((m) => m.told),
    [1, 1, 1, 1],
  );
});

test('the last member to leave takes the listener off its signal; signals are listened to apart', () => {
  const fanout = new AbortFanout<Member>();
  const [a, b] = [new AbortController(), new AbortController()];
  const [m1, m2, m3] = [new Member(), new Member(), new Member()];
  fanout.add(a.signal, m1);
  fanout.add(a.signal, m2);
  fanout.add(b.signal, m3);
  assert.equal(fanout.signals(), 2);
  fanout.delete(a.signal, m1);
  assert.equal(getEventListeners(a.signal, 'abort').length, 1, 'one member is still there');
  fanout.delete(a.signal, m2);
  assert.equal(getEventListeners(a.signal, 'abort').length, 0);
  b.abort();
  assert.deepEqual([m1.told, m2.told, m3.told], [0, 0, 1]);
  assert.equal(fanout.signals(), 0);
});
