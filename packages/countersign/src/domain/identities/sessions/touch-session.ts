import type { Deps } from '../../../deps.js';
import type { SessionRow } from './authenticate-session.js';

/** last_seen_at is refreshed at most this often: the idle time-out is hours, a write per request is waste. */
export const TOUCH_EVERY_MS = 60_000;

/**
 * Keeps an active session from timing out idle. Not audited (it is activity, not a change of authority)
 * and compare-and-set on the old value, so concurrent requests write it once; a revoked session is
 * left alone.
 */
export async function touchSession(deps: Deps, row: SessionRow): Promise<void> {
  if (deps.clock.now() - row.last_seen_at < TOUCH_EVERY_MS) return;
  await deps.committer.run(async (tx) => {
    await tx.db
      .updateTable('sessions')
      .set({ last_seen_at: tx.now })
      .where('id', '=', row.id)
      .where('last_seen_at', '=', row.last_seen_at)
      .where('revoked_at', 'is', null)
      .execute();
  });
}
