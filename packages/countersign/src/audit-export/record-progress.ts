import type { Deps } from '../deps.js';
import { CsError } from '../lib/errors.js';

export interface Sent {
  name: string;
  owner: string;
  leaseMs: number;
  fromCursor: number;
  toCursor: number;
  toHash: string;
  toTs: number;
}

const MAX_ERROR_CHARS = 2000;

function leaseLost(name: string): CsError {
  return new CsError('conflict', `audit export sink ${name}: another node holds the lease now`);
}

/**
 * Moves the cursor past a delivered batch and clears the back-off, compare-and-set on (lease owner,
 * cursor): a node whose lease was taken over while it sent gets a conflict and records nothing, and the new
 * holder sends the batch again (the receiver sees it twice, with the same ids). No audit entry: the export
 * writing to the log it exports would never catch up.
 */
export async function recordSent(deps: Deps, s: Sent): Promise<void> {
  await deps.committer.run(async (tx) => {
    const moved = await tx.db
      .updateTable('audit_export_sinks')
      .set({
        cursor: s.toCursor,
        cursor_hash: s.toHash,
        cursor_ts: s.toTs,
        attempts: 0,
        next_attempt_at: null,
        last_error: null,
        sent_at: tx.now,
        lease_expires_at: tx.now + s.leaseMs,
        updated_at: tx.now,
      })
      .where('name', '=', s.name)
      .where('lease_owner', '=', s.owner)
      .where('cursor', '=', s.fromCursor)
      .executeTakeFirst();
    if (Number(moved.numUpdatedRows) !== 1) throw leaseLost(s.name);
  });
}

/** Records a failed send: the cursor stays, the next attempt waits `delayMs`. Returns when that is. */
export async function recordFailure(
  deps: Deps,
  f: { name: string; owner: string; cursor: number; attempts: number; delayMs: number; error: string },
): Promise<number> {
  return deps.committer.run(async (tx) => {
    const next = tx.now + f.delayMs;
    const updated = await tx.db
      .updateTable('audit_export_sinks')
      .set({ attempts: f.attempts, next_attempt_at: next, last_error: f.error.slice(0, MAX_ERROR_CHARS), updated_at: tx.now })
      .where('name', '=', f.name)
      .where('lease_owner', '=', f.owner)
      .where('cursor', '=', f.cursor)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1) throw leaseLost(f.name);
    return next;
  });
}
