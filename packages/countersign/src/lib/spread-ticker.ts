import type { Clock, TimerHandle } from './clock.js';

/** A member of a SpreadTicker: which slice it is in (-1 when it is in none). */
export interface TickerMember {
  slice: number;
}

/**
 * Calls `beat` for every member once per period with one timer for all of them. Members are dealt
 * round-robin into `slices` slices and each tick (period / slices apart) beats one slice, so thousands of
 * members' beats spread over the period instead of all going out at once. A member's first beat comes
 * within one period of joining, then one every period. The timer runs only while there are members.
 */
export class SpreadTicker<T extends TickerMember> {
  private readonly slicesOf: Set<T>[];
  /** The slice the next member joins. */
  private dealt = 0;
  /** The slice the next tick beats. */
  private due = 0;
  private count = 0;
  private timer: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly periodMs: number,
    private readonly beat: (member: T) => void,
    slices = 15,
  ) {
    this.slicesOf = Array.from({ length: slices }, () => new Set<T>());
  }

  get size(): number {
    return this.count;
  }

  /** Every member now (a copy: the caller may delete members as it goes). */
  members(): T[] {
    const out: T[] = [];
    for (const slice of this.slicesOf) for (const m of slice) out.push(m);
    return out;
  }

  add(m: T): void {
    if (m.slice !== -1) return;
    m.slice = this.dealt;
    this.dealt = (this.dealt + 1) % this.slicesOf.length;
    (this.slicesOf[m.slice] as Set<T>).add(m);
    this.count += 1;
    this.timer ??= this.clock.setTimeout(this.tick, this.periodMs / this.slicesOf.length);
  }

  delete(m: T): void {
    if (m.slice === -1) return;
    (this.slicesOf[m.slice] as Set<T>).delete(m);
    m.slice = -1;
    this.count -= 1;
    if (this.count === 0) {
      this.timer?.cancel();
      this.timer = undefined;
    }
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    const slice = this.slicesOf[this.due] as Set<T>;
    this.due = (this.due + 1) % this.slicesOf.length;
    // A copy: a beat may end its member (a failed write), which deletes it from the slice.
    for (const m of [...slice]) this.beat(m);
    if (this.count > 0) this.timer = this.clock.setTimeout(this.tick, this.periodMs / this.slicesOf.length);
  };
}
