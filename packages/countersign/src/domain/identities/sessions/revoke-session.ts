import type { Deps } from '../../../deps.js';
import { CsError } from '../../../lib/errors.js';
import { bumpIdentityEpoch } from '../epoch.js';
import type { UserPrincipal } from '../principal.js';

/**
 * Ends one of the caller's own sessions (sign out there, or sign out here with `logout`). Someone else's
 * session reads as not found, so ids cannot be probed. Its open event streams end at once (epoch).
 */
export async function revokeSession(
  deps: Deps,
  principal: UserPrincipal,
  sessionId: string,
  why: 'revoked' | 'logout',
): Promise<{ id: string }> {
  await deps.committer.run(async (tx) => {
    const row = await tx.db
      .selectFrom('sessions')
      .select(['id', 'revoked_at', 'expires_at'])
      .where('id', '=', sessionId)
      .where('user_id', '=', principal.id)
      .executeTakeFirst();
    if (!row) throw new CsError('not_found', `no session ${sessionId} of yours; GET /v1/me/sessions lists them`);
    const res = await tx.db
      .updateTable('sessions')
      .set({ revoked_at: tx.now })
      .where('id', '=', row.id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) throw new CsError('conflict', 'that session has already ended');
    await bumpIdentityEpoch(tx);
    tx.audit({
      actor: { type: 'user', id: principal.id },
      event: why === 'logout' ? 'session.logged_out' : 'session.revoked',
      data: { session_id: row.id, user_id: principal.id, by_session: principal.credential.kind === 'session' },
    });
  });
  deps.identities.changed();
  return { id: sessionId };
}
