import type { Done, Work } from './lanes.js';
import type { Page } from './read-events.js';
import type { Failure } from './record.js';

export interface Settled {
  /** Where the cursor moves: past the page, or to just before its first event that never started. */
  cursor: { toCursor: number; toCursorTs: number | null | undefined };
  failures: Failure[];
  /** Retries that succeeded this time. */
  recovered: number[];
  /** Deliveries whose outcome is recorded (for metrics: those dropped are delivered and counted again). */
  ran: number;
}

/**
 * What a pass comes to once its deliveries ran. The cursor never passes an event that did not run: when
 * the pass stopped early, it stops just before the first new event left unstarted, and whatever ran after
 * that one (done or failed) is not recorded: it is delivered again next pass with the same idempotency
 * key, which handlers already honour. Retries are independent of the cursor: each one that ran is
 * recorded, those that did not stay due.
 */
export function settle(page: Page, work: readonly Work[], done: ReadonlyMap<Work, Done>, maxAttempts: number): Settled {
  let firstUnstarted: number | null = null;
  for (const w of work)
    if (w.retryOf === null && !done.has(w) && (firstUnstarted === null || w.seq < firstUnstarted)) firstUnstarted = w.seq;
  const failures: Failure[] = [];
  const recovered: number[] = [];
  let lastTs: number | undefined;
  let ran = 0;
  for (const [w, d] of done) {
    if (w.retryOf === null && firstUnstarted !== null && w.seq > firstUnstarted) continue;
    ran += 1;
    if (w.retryOf === null && firstUnstarted !== null && w.event) lastTs = Math.max(lastTs ?? 0, w.event.ts);
    if (d.error === null) {
      if (w.retryOf !== null) recovered.push(w.seq);
      continue;
    }
    failures.push({
      seq: w.seq,
      type: w.event?.type ?? 'unknown',
      actionId: w.event?.actionId ?? null,
      error: d.error,
      // A retry whose event is gone has nothing left to deliver: its last attempt, dead-lettered now.
      attemptsBefore: w.retryOf === null ? 0 : w.event ? w.retryOf : maxAttempts - 1,
      notBefore: d.notBefore,
    });
  }
  const cursor =
    firstUnstarted === null ? { toCursor: page.last, toCursorTs: page.lastTs } : { toCursor: firstUnstarted - 1, toCursorTs: lastTs };
  return { cursor, failures, recovered, ran };
}
