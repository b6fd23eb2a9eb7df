import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Clock, TimerHandle } from '../src/lib/clock.js';
import { auditRows, call, forEachDialect, propose, type World, withPolicy, world } from './helpers.js';

// The wall clock steps forward and back (a VM resumed, NTP stepping, an operator's `date -s`) while
// timers keep counting monotonic time, as Node's setTimeout does. Deadlines are wall-clock rows, so a
// timer that fires must ask the clock again: a backward step must not fire anything early, a forward
// step must not lose anything that the new time makes due.

const S = 1000;

/**
 * now() is the wall clock: monotonic time plus an offset that jump() moves, as settimeofday does.
 * setTimeout counts monotonic time only, like Node's timers, so a jump neither fires nor delays one.
 */
class SteppingClock implements Clock {
  private mono = 0;
  private timers: { at: number; seq: number; fn: () => void; cancelled: boolean }[] = [];
  private seq = 0;
  constructor(private offset: number) {}

  now(): number {
    return this.mono + this.offset;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t = { at: this.mono + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.timers.push(t);
    return { cancel: () => (t.cancelled = true) };
  }

  /** The wall clock is set `ms` forward (or back, when negative); no timer notices. */
  jump(ms: number): void {
    this.offset += ms;
  }

  /** Monotonic time passes: timers fire in order, each given a moment to start its work. */
  async advance(ms: number): Promise<void> {
    const target = this.mono + ms;
    for (;;) {
      this.timers = this.timers.filter((t) => !t.cancelled).sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers[0];
      if (!next || next.at > target) break;
      this.timers.shift();
      this.mono = Math.max(this.mono, next.at);
      next.fn();
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    }
    this.mono = target;
  }
}

const POLICY = withPolicy(`
policy:
  default: review
  rules:
    - { name: prod, when: 'tool == "deploy"', effect: review, workflow: paged }
workflows:
  paged:
    expires_after: 10m
    stages:
      - approvers: { roles: [reviewer] }
        timeout: 2m
        on_timeout: deny
        escalation:
          - after: 1m
            approvers: { roles: [admin] }
`);

forEachDialect('faults: the wall clock jumps', (dialect) => {
  const clock = new SteppingClock(Date.UTC(2026, 0, 1));
  let w: World;
  before(async () => {
    w = await world(dialect, { clock, config: POLICY });
  });
  after(() => w.close());

  const events = async (id: string) => (await auditRows(w, id)).map((e) => e.event).filter((e) => e !== 'action.created');
  const status = async (id: string) => (await call(w, 'GET', `/v1/actions/${id}`, w.keys.ada)).body.status as string;
  /** Lets monotonic time pass second by second, without forcing a pass, until `check` holds; returns the seconds it took. */
  const secondsUntil = async (check: () => Promise<boolean>, max = 20): Promise<number> => {
    for (let s = 0; s <= max; s++) {
      // Real time for the pass a timer started (PostgreSQL round trips); the fake clock stands still meanwhile.
      for (let i = 0; i < 10; i++) {
        if (await check()) return s;
        await new Promise((r) => setTimeout(r, 5));
      }
      await clock.advance(S);
    }
    assert.fail(`still not done after ${max} s of monotonic time`);
  };

  test('a backward jump fires nothing early: the escalation waits for the wall clock, then fires within the 5 s re-check', async () => {
    const { body: a } = await propose(w, { tool: 'deploy', arguments: { run: 'back' } });
    const deadline = clock.now() + 60 * S;
    await clock.advance(50 * S);
    clock.jump(-90 * S);
    // The timer armed for the escalation fires on monotonic time, 40 s of wall time before it is due.
    for (let s = 0; s < 60; s += 10) {
      await clock.advance(10 * S);
      await w.gw.scheduler.tick();
      assert.ok(clock.now() < deadline);
      assert.deepEqual(await events(a.id), [], `nothing fired at ${(deadline - clock.now()) / S} s before the deadline`);
    }
    // Step to the deadline and leave it to the scheduler.
    await clock.advance(deadline - clock.now());
    const took = await secondsUntil(async () => (await events(a.id)).includes('action.escalated'));
    assert.ok(took <= 5, `fired ${took} s after the deadline, within the scheduler's 5 s cap`);
    assert.equal(await status(a.id), 'pending', 'the stage time-out (1 min later) has not come');
  });

  test('a forward jump loses nothing: every deadline the new time passed fires within 5 s, in order', async () => {
    const { body: a } = await propose(w, { tool: 'deploy', arguments: { run: 'forward' } });
    await clock.advance(10 * S);
    clock.jump(3 * 60 * S);
    const took = await secondsUntil(async () => (await status(a.id)) !== 'pending');
    assert.ok(took <= 5, `settled ${took} s after the jump`);
    // The escalation (1 min) and then the stage time-out (2 min, on_timeout: deny), as if the time had passed.
    assert.deepEqual(await events(a.id), ['action.escalated', 'action.denied']);
  });

  test('a forward jump past the whole review deadline expires the action: fails closed, nothing else fires', async () => {
    const { body: a } = await propose(w, { tool: 'deploy', arguments: { run: 'far forward' } });
    clock.jump(60 * 60 * S);
    const took = await secondsUntil(async () => (await status(a.id)) !== 'pending');
    assert.ok(took <= 5, `settled ${took} s after the jump`);
    // Expiry owns a deadline past expires_at (fire-timers.ts): the stage's timers are stale by then.
    assert.deepEqual(await events(a.id), ['action.expired']);
  });

  test('a jump back after the deadline fired does not fire it again or undo it', async () => {
    const { body: a } = await propose(w, { tool: 'deploy', arguments: { run: 'there and back' } });
    await clock.advance(70 * S);
    await secondsUntil(async () => (await events(a.id)).includes('action.escalated'));
    clock.jump(-10 * 60 * S);
    for (let s = 0; s < 30; s += 10) {
      await clock.advance(10 * S);
      await w.gw.scheduler.tick();
    }
    assert.deepEqual(await events(a.id), ['action.escalated']);
    assert.equal(await status(a.id), 'pending');
    // Set right again (and a little more): the stage time-out (2 min), now past, fires once within the 5 s re-check.
    clock.jump(10 * 60 * S + 30 * S);
    assert.ok((await secondsUntil(async () => (await status(a.id)) === 'denied')) <= 5);
    assert.deepEqual(await events(a.id), ['action.escalated', 'action.denied']);
  });
});
