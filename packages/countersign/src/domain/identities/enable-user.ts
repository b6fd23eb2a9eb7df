import type { Actor } from '../../db/committer.js';
import type { Deps } from '../../deps.js';
import { CsError } from '../../lib/errors.js';
import { bumpIdentityEpoch } from './epoch.js';
import { findUser } from './lookup.js';

/**
 * Undoes `disableUser`: keys that were not revoked work again, and their grants that have not expired
 * approve again (a grant is suspended by its creator being disabled, never revoked by it).
 */
export async function enableUser(deps: Deps, actor: Actor, email: string): Promise<{ id: string; email: string }> {
  const result = await deps.committer.run(async (tx) => {
    const user = await findUser(tx.db, email);
    const res = await tx.db
      .updateTable('users')
      .set({ disabled_at: null })
      .where('id', '=', user.id)
      .where('disabled_at', 'is not', null)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) throw new CsError('conflict', `${user.email} is not disabled`);
    await bumpIdentityEpoch(tx);
    tx.audit({ actor, event: 'user.enabled', data: { user_id: user.id, email: user.email } });
    return { id: user.id, email: user.email };
  });
  // This gateway's own held requests are checked now; other gateways see the epoch at their next tick.
  deps.identities.changed();
  return result;
}
