import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SerialRunner } from '../src/lib/serial-runner.js';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

test('a wake-up runs the work on a later turn, after the promises of the turn that woke it', async () => {
  const order: string[] = [];
  const runner = new SerialRunner(
    async () => {
      order.push('work');
    },
    () => false,
  );
  runner.wake();
  // The answer a commit's caller is still on its way to: a chain of microtasks in the waking turn.
  await Promise.resolve()
    .then(() => undefined)
    .then(() => order.push('answer'));
  assert.deepEqual(order, ['answer']);
  await runner.idle();
  assert.deepEqual(order, ['answer', 'work']);
});

test('wake-ups before the work has started run it once', async () => {
  let runs = 0;
  const runner = new SerialRunner(
    async () => {
      runs += 1;
    },
    () => false,
  );
  runner.wake();
  runner.wake();
  runner.wake();
  await runner.idle();
  await nextTurn();
  assert.equal(runs, 1);
});

test('a wake-up while the work runs makes it run once more when it ends', async () => {
  let runs = 0;
  let release!: () => void;
  const runner = new SerialRunner(
    async () => {
      runs += 1;
      if (runs === 1) await new Promise<void>((resolve) => (release = resolve));
    },
    () => false,
  );
  runner.wake();
  await nextTurn();
  assert.equal(runs, 1);
  runner.wake();
  runner.wake();
  release();
  await runner.idle();
  assert.equal(runs, 2);
});

test('a runner stopped before its deferred start does not run the work', async () => {
  let stopped = false;
  let runs = 0;
  const runner = new SerialRunner(
    async () => {
      runs += 1;
    },
    () => stopped,
  );
  runner.wake();
  stopped = true;
  await runner.idle();
  assert.equal(runs, 0);
});
