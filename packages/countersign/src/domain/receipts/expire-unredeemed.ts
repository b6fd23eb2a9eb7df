import { sql } from 'kysely';
import type { Deps } from '../../deps.js';
import { emitStatus } from '../actions/emit-action-event.js';
import { SWEEP_BATCH, sweepExpiring } from '../actions/expire-sweep.js';
import { applyTransition, loadForUpdate } from '../actions/transition.js';

/** An approved action whose receipt was never redeemed within its window may no longer run: it expires (audited). */
export async function expireUnredeemed(deps: Deps): Promise<number> {
  return sweepExpiring(
    deps,
    (now) =>
      deps.db.read
        .selectFrom('actions')
        .select('id')
        // Literals, so the planner can use the partial index on open execution windows.
        .where(sql<boolean>`status = 'approved' and redeemed_at is null`)
        .where('execute_by', '<=', now)
        .orderBy('execute_by')
        .limit(SWEEP_BATCH)
        .execute(),
    async (tx, id) => {
      const row = await loadForUpdate(tx, id, { lock: true });
      if (row.status !== 'approved' || row.redeemed_at !== null || row.execute_by === null || row.execute_by > tx.now) return false;
      const updated = await applyTransition(tx, row, 'expire', {
        reason: 'Approved, but the receipt was not redeemed within its execution window; the action may no longer run.',
      });
      tx.audit({
        actor: { type: 'system', id: null },
        event: 'action.expired',
        actionId: id,
        data: { execute_by: row.execute_by, jti: row.receipt_jti },
      });
      await emitStatus(tx, updated);
      return true;
    },
  );
}

/** The earliest open execution window, so the scheduler can sleep until then. */
export async function nextWindowEnd(deps: Deps): Promise<number | null> {
  const row = await deps.db.read
    .selectFrom('actions')
    .select((eb) => eb.fn.min('execute_by').as('next'))
    .where(sql<boolean>`status = 'approved' and redeemed_at is null`)
    .executeTakeFirst();
  return row?.next === null || row?.next === undefined ? null : Number(row.next);
}
