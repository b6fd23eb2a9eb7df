import type { Actor } from '../../../db/committer.js';
import type { Deps } from '../../../deps.js';
import { CsError } from '../../../lib/errors.js';

/**
 * Removes one passkey of a person: the person themselves (from a recently signed-in session, checked by
 * the caller) or an admin (a lost device). Audited `passkey.removed`, with how many remain: removing the
 * last one turns the second factor off, and the password alone signs in again.
 */
export async function removePasskey(
  deps: Deps,
  actor: Actor,
  userId: string,
  passkeyId: string,
): Promise<{ id: string; remaining: number }> {
  return deps.committer.run(async (tx) => {
    const row = await tx.db
      .selectFrom('passkeys')
      .select(['id', 'name'])
      .where('id', '=', passkeyId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    if (!row) throw new CsError('not_found', `no passkey ${passkeyId} of that person; list them first`);
    const res = await tx.db.deleteFrom('passkeys').where('id', '=', row.id).executeTakeFirst();
    if (Number(res.numDeletedRows) !== 1) throw new CsError('conflict', 'that passkey was removed meanwhile');
    const left = await tx.db
      .selectFrom('passkeys')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('user_id', '=', userId)
      .executeTakeFirstOrThrow();
    const remaining = Number(left.n);
    tx.audit({
      actor,
      event: 'passkey.removed',
      data: { passkey_id: row.id, user_id: userId, name: row.name, remaining, second_factor: remaining > 0 },
    });
    return { id: row.id, remaining };
  });
}
