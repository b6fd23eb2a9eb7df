import type { Deps } from '../../deps.js';
import { CsError } from '../../lib/errors.js';
import { ChainVerifier } from './chain-verifier.js';
import { CheckpointVerifier, signCheckpoint } from './checkpoint-note.js';
import { publishedKeys } from './stored-checkpoints.js';

export interface CheckpointRecord {
  size: number;
  /** Hex, as the chain stores it. */
  headHash: string;
  kid: string;
  /** The signed note, exactly as served and verified. */
  note: string;
  createdAt: number;
}

/** Small pages: this runs inside the gateway, and SQLite reads block the event loop while they run. */
const PAGE = 1000;

/** The head of the chain and the latest checkpoint, as the checkpointer decides whether one is due. */
export async function checkpointState(deps: Deps): Promise<{ size: number; last: { size: number; createdAt: number } | null }> {
  const head = await deps.db.read.selectFrom('chain_head').select('audit_seq').where('id', '=', 1).executeTakeFirst();
  const last = await deps.db.read
    .selectFrom('audit_checkpoints')
    .select(['size', 'created_at'])
    .orderBy('size', 'desc')
    .limit(1)
    .executeTakeFirst();
  return { size: Number(head?.audit_seq ?? 0), last: last ? { size: Number(last.size), createdAt: Number(last.created_at) } : null };
}

/**
 * Signs the chain's current head, unless a checkpoint already covers it, and
 * stores it. Returns the new checkpoint, or null when there was nothing new or
 * another gateway stored the same size first.
 *
 * The head (size and hash) comes from the one chain_head row in one
 * statement, which every database answers from a single snapshot, so the pair
 * is never torn; the committer updates that row in the same transaction that
 * appends the entries.
 *
 * A log must never sign a checkpoint inconsistent with one it signed before
 * (c2sp.org/tlog-checkpoint), so before signing this replays the entries
 * since the latest verifying checkpoint and refuses if they do not extend it.
 */
export async function writeCheckpoint(deps: Deps): Promise<CheckpointRecord | null> {
  const db = deps.db.read;
  const head = await db.selectFrom('chain_head').select(['audit_seq', 'audit_hash']).where('id', '=', 1).executeTakeFirst();
  const size = Number(head?.audit_seq ?? 0);
  if (!head || size === 0) return null;
  const last = await db.selectFrom('audit_checkpoints').selectAll().orderBy('size', 'desc').limit(1).executeTakeFirst();
  if (last && Number(last.size) > size) {
    throw new CsError(
      'conflict',
      `refusing to sign: the chain head (${size}) is behind the latest checkpoint (${last.size}); entries were removed`,
    );
  }
  if (last && Number(last.size) === size) return null;

  let start: { seq: number; hash: string } | undefined;
  if (last) {
    const checked = new CheckpointVerifier(await publishedKeys(db)).check(last.note);
    if (!checked.ok || checked.checkpoint.size !== Number(last.size)) {
      throw new CsError(
        'conflict',
        `refusing to sign: the latest stored checkpoint (${last.size}) does not verify: ${checked.ok ? 'size differs' : checked.problem}`,
      );
    }
    start = { seq: checked.checkpoint.size, hash: checked.checkpoint.headHash };
  }
  const v = new ChainVerifier([], start);
  let after = start?.seq ?? 0;
  while (after < size) {
    const rows = await db
      .selectFrom('audit_log')
      .selectAll()
      .where('seq', '>', after)
      .where('seq', '<=', size)
      .orderBy('seq')
      .limit(PAGE)
      .execute();
    for (const r of rows) if (!v.push({ ...r, seq: Number(r.seq), ts: Number(r.ts) })) break;
    const lastRow = rows[rows.length - 1];
    if (v.problem || lastRow === undefined) break;
    after = Number(lastRow.seq);
  }
  v.finish();
  if (!v.problem && (v.headSeq !== size || v.headHash !== head.audit_hash)) {
    v.fail(v.headSeq + 1, 'truncated', `the chain head (${size}) does not match the last entry that verifies (${v.headSeq})`);
  }
  const problem = v.problem;
  if (problem) {
    throw new CsError('conflict', `refusing to sign a checkpoint: audit chain broken at entry ${problem.seq}: ${problem.problem}`, {
      details: { seq: problem.seq, kind: problem.kind, problem: problem.problem },
    });
  }

  const { origin } = deps.config.audit;
  const note = signCheckpoint(deps.keyring, origin, size, head.audit_hash);
  const kid = deps.keyring.active.kid;
  const stored = await deps.committer.run(async (tx) => {
    // Several gateways may sign the same size at once; the first row stands (identical but for the signing key).
    const row = await tx.db
      .insertInto('audit_checkpoints')
      .values({ size, head_hash: head.audit_hash, kid, note, created_at: tx.now })
      .onConflict((oc) => oc.column('size').doNothing())
      .returning('created_at')
      .executeTakeFirst();
    return row ? Number(row.created_at) : null;
  });
  return stored === null ? null : { size, headHash: head.audit_hash, kid, note, createdAt: stored };
}
