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
 * order of their first seq. Before each delivery `mayStart` is asked (the lease renewed, no stop, no
 * platform asking us to wait): once it says no, nothing more starts, what is in flight finishes, and the
 * work never started is simply absent from the result, so the caller keeps its cursor before it.
 */
export async function runLanes(
  work: readonly Work[],
  concurrency: number,
  mayStart: () => Promise<boolean>,
  deliver: (w: Work) => Promise<Done>,
): Promise<Map<Work, Done>> {
  // One at a time: a single lane in the order given (new events in seq order, then the retries), as before lanes.
  if (concurrency <= 1) return runQueue([[...work]], 1, mayStart, deliver);
  const lanes = new Map<string, Work[]>();
  for (const w of [...work].sort((a, b) => a.seq - b.seq)) {
    const key = w.actionId ?? '';
    const lane = lanes.get(key);
    if (lane) lane.push(w);
    else lanes.set(key, [w]);
  }
  return runQueue([...lanes.values()], concurrency, mayStart, deliver);
}

async function runQueue(
  queue: Work[][],
  concurrency: number,
  mayStart: () => Promise<boolean>,
  deliver: (w: Work) => Promise<Done>,
): Promise<Map<Work, Done>> {
  const done = new Map<Work, Done>();
  let halted = false;
  const runner = async () => {
    for (let lane = queue.shift(); lane !== undefined && !halted; lane = queue.shift()) {
      for (const w of lane) {
        if (halted || !(await mayStart())) {
          halted = true;
          return;
        }
        done.set(w, await deliver(w));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, queue.length)) }, runner));
  return done;
}
