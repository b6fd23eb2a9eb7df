import type { Tx } from '../../../db/committer.js';

/** Ends every live session of a person (disabled, password reset); returns how many. The caller bumps the epoch. */
export async function revokeUserSessions(tx: Tx, userId: string): Promise<number> {
  const res = await tx.db
    .updateTable('sessions')
    .set({ revoked_at: tx.now })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', tx.now)
    .executeTakeFirst();
  return Number(res.numUpdatedRows);
}
