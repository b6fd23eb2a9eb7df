import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.js';
import { CsError } from '../../lib/errors.js';
import type { CheckpointView } from './schemas.js';

/** The newest signed checkpoint, as stored (whoever signed it); not_found before the first one. */
export async function latestCheckpoint(db: Kysely<DB>): Promise<CheckpointView> {
  const row = await db.selectFrom('audit_checkpoints').selectAll().orderBy('size', 'desc').limit(1).executeTakeFirst();
  if (!row) throw new CsError('not_found', 'no audit checkpoint has been signed yet');
  return {
    // The note's first line; served as stored; verifiers check the note, not this field.
    origin: row.note.slice(0, Math.max(0, row.note.indexOf('\n'))),
    size: Number(row.size),
    head_hash: row.head_hash,
    kid: row.kid,
    created_at: new Date(Number(row.created_at)).toISOString(),
    note: row.note,
  };
}
