import type { Kysely } from 'kysely';
import type { Tx } from '../../db/committer.js';
import { PreparedQuery } from '../../db/prepared.js';
import type { DB } from '../../db/types.js';

// Read before every API-key request (key-cache.ts), so it is compiled once.
const epochRow = new PreparedQuery<Record<string, never>, { epoch: number | string }>((db) =>
  db.selectFrom('identity_epoch').select('epoch').where('id', '=', 1),
);

/**
 * Marks that who may do what has changed. Called in the same transaction as the change itself, so a
 * gateway that reads the new epoch also reads the change (see events/identity-watcher.ts). The only writer
 * of the epoch: the operation must write an audit entry too (the committer refuses it otherwise), which is
 * what lets a commit learn its epoch with no lock (db/append-logs.ts, EPOCH).
 */
export async function bumpIdentityEpoch(tx: Tx): Promise<void> {
  await tx.db
    .updateTable('identity_epoch')
    .set((eb) => ({ epoch: eb('epoch', '+', 1) }))
    .where('id', '=', 1)
    .execute();
  tx.identityEpochMoved();
}

export async function readIdentityEpoch(db: Kysely<DB>): Promise<number> {
  const row = await epochRow.executeTakeFirst(db, {});
  // PostgreSQL returns bigint as a string.
  return Number(row?.epoch ?? 0);
}
