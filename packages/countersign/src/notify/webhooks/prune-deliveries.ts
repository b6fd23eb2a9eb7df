import type { Deps } from '../../deps.js';

/** Rows per delete: one short transaction each, like the outbox's retention. */
export const PRUNE_DELIVERIES_BATCH = 1000;

/**
 * Deletes one batch of delivery log rows older than `cutoff`; returns how many went. The log is
 * operations data kept as long as the events it describes (`events.retention`); what matters for the
 * record (a dead letter, an endpoint disabled by 410 Gone) is in the audit log, which is never deleted.
 */
export async function pruneDeliveries(deps: Deps, cutoff: number): Promise<number> {
  return deps.committer.run(async (tx) => {
    const rows = await tx.db
      .selectFrom('webhook_deliveries')
      .select('id')
      .where('at', '<', cutoff)
      .orderBy('at')
      .limit(PRUNE_DELIVERIES_BATCH)
      .execute();
    if (rows.length === 0) return 0;
    const res = await tx.db
      .deleteFrom('webhook_deliveries')
      .where(
        'id',
        'in',
        rows.map((r) => r.id),
      )
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  });
}
