import type { Actor, Tx } from '../../db/committer.js';
import { newId } from '../../lib/ids.js';
import type { NewKey } from './api-keys.js';

/**
 * Stores a generated key for a person or agent inside the caller's transaction (only the hash of its
 * secret), with its `key.created` audit entry. The key itself is returned to the caller once, never stored.
 */
export async function storeKey(
  tx: Tx,
  actor: Actor,
  key: NewKey,
  principal: { type: 'user' | 'agent'; id: string },
  label: string | null = null,
): Promise<void> {
  await tx.db
    .insertInto('api_keys')
    .values({
      id: newId(),
      prefix: key.prefix,
      secret_hash: key.secretHash,
      principal_type: principal.type,
      principal_id: principal.id,
      label,
      created_at: tx.now,
      revoked_at: null,
    })
    .execute();
  tx.audit({
    actor,
    event: 'key.created',
    data: { prefix: key.prefix, principal_type: principal.type, principal_id: principal.id, ...(label ? { label } : {}) },
  });
}
