import type { Lanes, Work } from './lanes.js';
import type { Page } from './read-events.js';

/**
 * How long a pass keeps taking in events committed after it read its page (bus wake-ups during the pass)
 * before it stops taking more and records its progress: under a steady stream the cursor still moves.
 */
export const TAKE_IN_MS = 2_000;

/** A pass while its deliveries run: its page and work grow with what it takes in. */
export interface InFlight {
  lanes: Lanes;
  page: Page;
  work: Work[];
  /** No more is taken in after this time: the pass records its progress. */
  until: number;
  reading: boolean;
  again: boolean;
}

/**
 * A wake-up while a pass delivers: the events committed since its page was read join it (their actions'
 * lanes, or new ones) and start as soon as a slot is free, instead of waiting for the pass's slowest
 * delivery. One read at a time; wake-ups during a read make one more. The page grows with what was
 * read, so the cursor moves past it only if it all ran, as for the first page. A failed read is only
 * logged: the next pass reads those events from the cursor anyway.
 */
export function takeIn(
  p: InFlight,
  batchSize: number,
  now: () => number,
  read: (after: number, limit: number) => Promise<Page>,
  warn: (err: unknown) => void,
): void {
  if (p.reading) {
    p.again = true;
    return;
  }
  const room = batchSize - p.work.length;
  if (!p.lanes.accepting || room <= 0 || now() >= p.until) return;
  p.reading = true;
  void p.lanes.hold(async () => {
    try {
      const more = await read(p.page.last, room);
      if (more.last === p.page.last || !p.lanes.accepting) return;
      const added = more.events.map((event) => ({ seq: event.seq, event, attempt: 1, retryOf: null, actionId: event.actionId }));
      p.page.events.push(...more.events);
      p.page.last = more.last;
      p.page.lastTs = more.lastTs;
      p.page.full = more.full;
      p.work.push(...added);
      p.lanes.add(added);
    } catch (err) {
      warn(err);
    } finally {
      p.reading = false;
      if (p.again) {
        p.again = false;
        takeIn(p, batchSize, now, read, warn);
      }
    }
  });
}
