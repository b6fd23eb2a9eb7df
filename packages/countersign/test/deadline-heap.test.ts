import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DeadlineHeap } from '../src/lib/deadline-heap.js';

interface Entry {
  deadline: number;
  slot: number;
  name: string;
}

const entry = (name: string, deadline: number): Entry => ({ name, deadline, slot: -1 });

/** Empties the heap earliest first. */
function drain(heap: DeadlineHeap<Entry>): string[] {
  const out: string[] = [];
  for (let e = heap.peek(); e !== undefined; e = heap.peek()) {
    heap.remove(e);
    out.push(e.name);
  }
  return out;
}

test('entries come out earliest deadline first, whatever order they went in', () => {
  const heap = new DeadlineHeap<Entry>();
  for (const [name, at] of [
    ['c', 30],
    ['a', 10],
    ['e', 50],
    ['b', 20],
    ['d', 40],
  ] as const)
    heap.push(entry(name, at));
  assert.equal(heap.size, 5);
  assert.deepEqual(drain(heap), ['a', 'b', 'c', 'd', 'e']);
});

test('an entry removed from the middle is gone and the rest keep their order', () => {
  const heap = new DeadlineHeap<Entry>();
  const entries = Array.from({ length: 200 }, (_, i) => entry(`e${i}`, (i * 7919) % 1000));
  for (const e of entries) heap.push(e);
  const removed = entries.filter((_, i) => i % 3 === 0);
  for (const e of removed) heap.remove(e);
  for (const e of removed) assert.equal(e.slot, -1);
  const kept = entries.filter((_, i) => i % 3 !== 0).sort((x, y) => x.deadline - y.deadline);
  assert.deepEqual(
    drain(heap).map((n) => entries.find((e) => e.name === n)?.deadline),
    kept.map((e) => e.deadline),
  );
});

test('removing an entry that is not in the heap changes nothing', () => {
  const heap = new DeadlineHeap<Entry>();
  const a = entry('a', 1);
  heap.push(a);
  heap.remove(a);
  heap.remove(a);
  heap.remove(entry('stranger', 0));
  assert.equal(heap.size, 0);
  assert.equal(heap.peek(), undefined);
});
