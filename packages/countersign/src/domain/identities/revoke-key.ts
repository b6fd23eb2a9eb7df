import type { Actor } from '../../db/committer.js';
import type { Deps } from '../../deps.js';
import { CsError } from '../../lib/errors.js';
import { normalizePrefix } from './api-keys.js';

/** Revokes a key by its public prefix; effective on the very next request (keys are not cached). */
export async function revokeKey(
  deps: Deps,
  actor: Actor,
  prefixInput: string,
): Promise<{ prefix: string; principalType: string; principalId: string }> {
  const prefix = normalizePrefix(prefixInput);
  if (!prefix) throw new CsError('invalid_request', `"${prefixInput}" is not a key prefix (expected cs_ followed by 12 hex characters)`);
  return deps.committer.run(async (tx) => {
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
    tx.audit({ actor, event: 'key.revoked', data: { prefix, principal_type: row.principal_type, principal_id: row.principal_id } });
    return { prefix, principalType: row.principal_type, principalId: row.principal_id };
  });
}
