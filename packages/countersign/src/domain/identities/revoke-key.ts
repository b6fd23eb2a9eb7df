import type { Actor } from '../../db/committer.js';
import type { Deps } from '../../deps.js';
import { CsError } from '../../lib/errors.js';
import { normalizePrefix } from './api-keys.js';
import { bumpIdentityEpoch } from './epoch.js';

export interface RevokedKey {
  prefix: string;
  principalType: string;
  principalId: string;
  /** Keys the principal still has; 0 means they can no longer call the API at all. */
  remainingKeys: number;
  /**
   * For a person: the live grants they created. Grants belong to the person, not the key, so revoking
   * keys leaves them approving; `disableUser` suspends them. The CLI warns when this is the last key.
   */
  liveGrants: number;
}

/**
 * Revokes a key by its public prefix: refused on the very next request (keys are not cached), and its
 * open streams and long-polls end (the identity epoch moves in the same transaction).
 */
export async function revokeKey(deps: Deps, actor: Actor, prefixInput: string): Promise<RevokedKey> {
  const prefix = normalizePrefix(prefixInput);
  if (!prefix) throw new CsError('invalid_request', `"${prefixInput}" is not a key prefix (expected cs_ followed by 12 hex characters)`);
  const result = await deps.committer.run(async (tx) => {
    const row = await tx.db
      .selectFrom('api_keys')
      .select(['prefix', 'principal_type', 'principal_id', 'revoked_at'])
      .where('prefix', '=', prefix)
      .executeTakeFirst();
    if (!row) throw new CsError('not_found', `no key with prefix ${prefix}`);
    const res = await tx.db
      .updateTable('api_keys')
      .set({ revoked_at: tx.now })
      .where('prefix', '=', prefix)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) throw new CsError('conflict', `key ${prefix} is already revoked`);
    await bumpIdentityEpoch(tx);
    tx.audit({ actor, event: 'key.revoked', data: { prefix, principal_type: row.principal_type, principal_id: row.principal_id } });
    const remaining = await tx.db
      .selectFrom('api_keys')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('principal_type', '=', row.principal_type)
      .where('principal_id', '=', row.principal_id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    let liveGrants = 0;
    if (row.principal_type === 'user') {
      const grants = await tx.db
        .selectFrom('grants')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('created_by_id', '=', row.principal_id)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', tx.now)
        .executeTakeFirst();
      liveGrants = Number(grants?.n ?? 0);
    }
    return {
      prefix,
      principalType: row.principal_type,
      principalId: row.principal_id,
      remainingKeys: Number(remaining?.n ?? 0),
      liveGrants,
    };
  });
  // This gateway's own held requests are checked now; other gateways see the epoch at their next tick.
  deps.identities.changed();
  return result;
}
