import type { Kysely } from 'kysely';
import type { Tx } from '../../db/committer.js';
import type { DB } from '../../db/types.js';

/**
 * Marks that who may do what has changed. Called in the same transaction as the change itself, so a
 * gateway that reads the new epoch also reads the change (see events/identity-watcher.ts).
 */
export async function bumpIdentityEpoch(tx: Tx): Promise<void> {
  await tx.db
    .updateTable('identity_epoch')
    .set((eb) => ({ epoch: eb('epoch', '+', 1) }))
    .where('id', '=', 1)
    .execute();
}

export async function readIdentityEpoch(db: Kysely<DB>): Promise<number> {
  const row = await db.selectFrom('identity_epoch').select('epoch').where('id', '=', 1).executeTakeFirst();
  return Number(row?.epoch ?? 0);
}
