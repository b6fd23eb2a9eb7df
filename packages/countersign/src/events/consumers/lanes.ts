import type { StoredEvent } from '../types.js';

/** One delivery a pass owes: a new event after the cursor, or a retry that came due. */
export interface Work {
  seq: number;
  /** Undefined for a retry whose event is gone from the outbox (deleted by hand): dead-lettered unsent. */
  event: StoredEvent | undefined;
  attempt: number;
  /** Failed attempts before this one (null for a new event). */
  retryOf: number | null;
  actionId: string | null;
}

/** A delivery that ran: the handler's error (null: it succeeded) and, for RetryLater, the earliest retry. */
export interface Done {
  error: string | null;
  notBefore: number | null;
}

/**
 * Runs a pass's deliveries with at most `concurrency` in flight. Deliveries about the same action form a
 * lane, run one after another in seq order (an update of action X never overtakes the post of X; a retry
 * of X, being older, goes first); events about no action share one lane. Lanes run side by side, taken in
 * order of their first seq. With `concurrency` 1 everything is one lane in the order added (new events in
 * seq order, then the retries).
 *
 * Work can be added while the pass runs (`add`: events committed after the pass read its page): an event
 * joins its action's lane if that lane is still queued or running, else it opens a new lane at the back.
 * So an event committed during a long pass starts as soon as a slot is free, instead of waiting for the
 * pass's slowest delivery and a new pass. Before each delivery `mayStart` is asked (the lease renewed, no
 * stop, no platform asking us to wait): once it says no, nothing more starts, what is in flight finishes,
 * and the work never started is simply absent from the result, so the caller keeps its cursor before it.
 */
export class Lanes {
  readonly done = new Map<Work, Done>();
  private readonly queue: { key: string; lane: Work[] }[] = [];
  /** Lanes queued or running, by action: where an added event of the same action goes. */
  private readonly open = new Map<string, Work[]>();
  private active = 0;
  /** Reads of more work in flight (`hold`): the pass is not over while one may still add. */
  private holds = 0;
  private stop = false;
  private over = false;
  private failure: { error: unknown } | undefined;
  private resolve!: () => void;
  private readonly finished = new Promise<void>((r) => {
    this.resolve = r;
  });

  constructor(
    private readonly concurrency: number,
    private readonly mayStart: () => Promise<boolean>,
    private readonly deliver: (w: Work) => Promise<Done>,
  ) {}

  /** Whether more work is still taken: not once `mayStart` said no (or failed), nor once the lanes are over. */
  get accepting(): boolean {
    return !this.stop && !this.over;
  }

  add(work: readonly Work[]): void {
    if (this.over) throw new Error('work added to lanes that are over');
    const serial = this.concurrency <= 1;
    for (const w of serial ? work : [...work].sort((a, b) => a.seq - b.seq)) {
      const key = serial ? '' : (w.actionId ?? '');
      const lane = this.open.get(key);
      if (lane) lane.push(w);
      else {
        const fresh = [w];
        this.open.set(key, fresh);
        this.queue.push({ key, lane: fresh });
      }
    }
    this.pump();
  }

  /** Keeps the lanes open until `task` (a read of more work that may `add`) has settled. */
  async hold(task: () => Promise<void>): Promise<void> {
    this.holds += 1;
    try {
      await task();
    } finally {
      this.holds -= 1;
      this.pump();
    }
  }

  /** Resolves with what ran once nothing is in flight, queued (or startable) or being read. */
  async settled(): Promise<Map<Work, Done>> {
    this.pump();
    await this.finished;
    if (this.failure) throw this.failure.error;
    return this.done;
  }

  private pump(): void {
    while (!this.stop && this.active < this.concurrency && this.queue.length > 0) {
      const { key, lane } = this.queue.shift() as { key: string; lane: Work[] };
      this.active += 1;
      void this.run(key, lane);
    }
    if (this.active === 0 && this.holds === 0 && (this.stop || this.queue.length === 0)) {
      this.over = true;
      this.resolve();
    }
  }

  private async run(key: string, lane: Work[]): Promise<void> {
    try {
      // The lane may grow while it runs; reading its length each time takes what was added.
      for (let i = 0; i < lane.length; i++) {
        if (this.stop || !(await this.mayStart())) {
          this.stop = true;
          break;
        }
        const w = lane[i] as Work;
        this.done.set(w, await this.deliver(w));
      }
    } catch (error) {
      this.failure ??= { error };
      this.stop = true;
    } finally {
      // In the same tick as the loop's last look at the lane: nothing can be added to it unseen.
      if (this.open.get(key) === lane) this.open.delete(key);
      this.active -= 1;
      this.pump();
    }
  }
}

/** Runs the given work to the end with nothing added (the lanes without a pass that reads more). */
export function runLanes(
  work: readonly Work[],
  concurrency: number,
  mayStart: () => Promise<boolean>,
  deliver: (w: Work) => Promise<Done>,
): Promise<Map<Work, Done>> {
  const lanes = new Lanes(concurrency, mayStart, deliver);
  lanes.add(work);
  return lanes.settled();
}
