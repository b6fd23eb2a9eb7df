import type { Tx } from '../../db/committer.js';
import type { Deps } from '../../deps.js';
import { isCsError } from '../../lib/errors.js';

export const SWEEP_BATCH = 200;

/**
 * Expires due actions a page at a time: `findDue` reads up to SWEEP_BATCH ids,
 * `expireOne` runs each in its own transaction (a compare-and-set, so whatever
 * committed first wins and the expiry is a no-op, returning false). Lost races
 * are not errors; anything else is.
 */
export async function sweepExpiring(
  deps: Deps,
  findDue: (now: number) => Promise<{ id: string }[]>,
  expireOne: (tx: Tx, id: string) => Promise<boolean>,
): Promise<number> {
  let expired = 0;
  for (;;) {
    const due = await findDue(deps.clock.now());
    if (due.length === 0) return expired;
    const results = await Promise.allSettled(due.map(({ id }) => deps.committer.run((tx) => expireOne(tx, id))));
    let progressed = 0;
    for (const r of results) {
      if (r.status === 'fulfilled' && r.value) progressed += 1;
      else if (r.status === 'rejected' && !(isCsError(r.reason) && r.reason.code === 'conflict')) throw r.reason;
    }
    expired += progressed;
    deps.metrics.transitions.inc({ status: 'expired' }, progressed);
    if (due.length < SWEEP_BATCH) return expired;
  }
}
