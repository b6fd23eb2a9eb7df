import type { Deps } from '../../deps.js';

/** last_used_at is written at most this often per key: "used 3 minutes ago" needs no write per request. */
export const KEY_TOUCH_EVERY_MS = 60_000;

/**
 * Records that an API key was just used (GET /v1/admin/keys shows it). Not audited (activity, not a change
 * of authority); compare-and-set on the old value, so concurrent requests write it once; a revoked key is
 * left alone. A failure to record it never fails the request it was recorded for: it is logged.
 */
export async function touchKey(deps: Deps, prefix: string, lastUsedAt: number | null): Promise<void> {
  if (lastUsedAt !== null && deps.clock.now() - lastUsedAt < KEY_TOUCH_EVERY_MS) return;
  try {
    await deps.committer.run(async (tx) => {
      let q = tx.db.updateTable('api_keys').set({ last_used_at: tx.now }).where('prefix', '=', prefix).where('revoked_at', 'is', null);
      q = lastUsedAt === null ? q.where('last_used_at', 'is', null) : q.where('last_used_at', '=', lastUsedAt);
      await q.execute();
    });
  } catch (e) {
    deps.logger.warn({ err: e, key_prefix: prefix }, 'could not record the last use of an API key');
  }
}
