import { sql } from 'kysely';
import type { Deps } from '../../deps.js';
import { emitStatus } from './emit-action-event.js';
import { SWEEP_BATCH, sweepExpiring } from './expire-sweep.js';
import { applyTransition, loadForUpdate } from './transition.js';

/**
 * Fails closed: every pending action past its deadline becomes `expired`,
 * never approved. Each expiry is its own compare-and-set, so a review that
 * commits first simply wins and the expiry becomes a no-op.
 */
export async function expireDueActions(deps: Deps): Promise<number> {
  return sweepExpiring(
    deps,
    (now) =>
      deps.db.read
        .selectFrom('actions')
        .select('id')
        // A literal, not a parameter, so the planner can use the partial index on pending deadlines.
        .where(sql<boolean>`status = 'pending'`)
        .where('expires_at', '<=', now)
        .orderBy('expires_at')
        .limit(SWEEP_BATCH)
        .execute(),
    async (tx, id) => {
      const row = await loadForUpdate(tx, id);
      if (row.status !== 'pending' || row.expires_at === null || row.expires_at > tx.now) return false;
      const updated = await applyTransition(tx, row, 'expire', {
        decided_at: tx.now,
        decided_by_type: 'system',
        decided_by_id: null,
        decided_by_label: 'expiry',
        reason: 'No reviewer decided before the deadline; the action expired and was not approved.',
      });
      tx.audit({ actor: { type: 'system', id: null }, event: 'action.expired', actionId: id, data: { expires_at: row.expires_at } });
      await emitStatus(tx, updated);
      return true;
    },
  );
}

/** The earliest pending deadline, so the scheduler can sleep exactly until then. */
export async function nextExpiry(deps: Deps): Promise<number | null> {
  const row = await deps.db.read
    .selectFrom('actions')
    .select((eb) => eb.fn.min('expires_at').as('next'))
    .where(sql<boolean>`status = 'pending'`)
    .executeTakeFirst();
  const next = row?.next;
  return next === null || next === undefined ? null : Number(next);
}
