import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.js';
import type { AuditProblem, TrustedCheckpoint } from './chain-verifier.js';
import { CheckpointVerifier, type PublicKeySet } from './checkpoint-note.js';

/** Every public key any node published (the same set GET /.well-known/jwks.json serves). */
export async function publishedKeys(db: Kysely<DB>): Promise<PublicKeySet> {
  const rows = await db.selectFrom('signing_keys').select('public_jwk').orderBy('created_at').execute();
  return { keys: rows.map((r) => JSON.parse(r.public_jwk) as unknown) };
}

export interface CheckedCheckpoints {
  trusted: TrustedCheckpoint[];
  /** Stored checkpoints whose note does not verify, or whose row disagrees with its note; by size. */
  forged: AuditProblem[];
}

/**
 * Checks every stored checkpoint's signature against the published keys. The
 * note is what was signed; the row's size/head_hash/kid columns only index
 * it, so a row that disagrees with its own note counts as forged too.
 */
export async function checkStoredCheckpoints(db: Kysely<DB>, keys?: PublicKeySet): Promise<CheckedCheckpoints> {
  const verifier = new CheckpointVerifier(keys ?? (await publishedKeys(db)));
  const rows = await db.selectFrom('audit_checkpoints').selectAll().orderBy('size').execute();
  const trusted: TrustedCheckpoint[] = [];
  const forged: AuditProblem[] = [];
  for (const row of rows) {
    const size = Number(row.size);
    const r = verifier.check(row.note);
    const forgery = (problem: string) => forged.push({ seq: size, kind: 'forged_checkpoint', problem: `checkpoint ${size}: ${problem}` });
    if (!r.ok) forgery(r.problem);
    else if (r.checkpoint.size !== size || r.checkpoint.headHash !== row.head_hash || r.checkpoint.kid !== row.kid) {
      forgery(`the row (size ${size}, key ${row.kid}) does not match its signed note (size ${r.checkpoint.size}, key ${r.checkpoint.kid})`);
    } else trusted.push({ size, headHash: r.checkpoint.headHash, kid: r.checkpoint.kid });
  }
  return { trusted, forged };
}
