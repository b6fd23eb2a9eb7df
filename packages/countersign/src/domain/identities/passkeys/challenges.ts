import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Tx } from '../../../db/committer.js';
import type { DB, WebauthnChallengesTable } from '../../../db/types.js';
import { hashToken } from '../sessions/tokens.js';
import { signedChallenge } from './relying-party.js';

/** What a ceremony was started for; a challenge answers only the purpose (and session) it was issued to. */
export type CeremonyPurpose = 'register' | 'sign_in' | 'reauthenticate';

export interface IssueChallenge {
  purpose: CeremonyPurpose;
  userId: string;
  sessionId: string | null;
  /** sha256 of the pending sign-in token (sign_in only). */
  pendingHash: string | null;
  ttlMs: number;
}

/**
 * A fresh challenge (32 random bytes, base64url) for one ceremony, stored as sha256 inside the caller's
 * transaction. Expired rows of anyone are swept here, so the table stays as small as the ceremonies in flight.
 */
export async function issueChallenge(tx: Tx, input: IssueChallenge): Promise<{ challenge: string; expiresAt: number }> {
  await tx.db.deleteFrom('webauthn_challenges').where('expires_at', '<=', tx.now).execute();
  const challenge = randomBytes(32).toString('base64url');
  const expiresAt = tx.now + input.ttlMs;
  await tx.db
    .insertInto('webauthn_challenges')
    .values({
      challenge_hash: hashToken(challenge),
      purpose: input.purpose,
      user_id: input.userId,
      session_id: input.sessionId,
      pending_hash: input.pendingHash,
      created_at: tx.now,
      expires_at: expiresAt,
      used_at: null,
    })
    .execute();
  return { challenge, expiresAt };
}

/** Why a ceremony's answer is refused before any signature is checked. */
export type ChallengeProblem = 'unknown' | 'used' | 'expired';

/**
 * The stored challenge a browser's clientDataJSON answers, for this purpose and session; read outside
 * any transaction (the consuming write is a compare-and-set, see consumeChallenge).
 */
export async function findChallenge(
  db: Kysely<DB>,
  clientDataJSON: string,
  purpose: CeremonyPurpose,
  sessionId: string | null,
  now: number,
): Promise<{ row: WebauthnChallengesTable; challenge: string } | ChallengeProblem> {
  const challenge = signedChallenge(clientDataJSON);
  if (challenge === null) return 'unknown';
  let q = db
    .selectFrom('webauthn_challenges')
    .selectAll()
    .where('challenge_hash', '=', hashToken(challenge))
    .where('purpose', '=', purpose);
  q = sessionId === null ? q.where('session_id', 'is', null) : q.where('session_id', '=', sessionId);
  const row = await q.executeTakeFirst();
  return checked(row, now, challenge);
}

/** The pending sign-in a token names (its challenge row), or why it does not work. */
export async function findPendingSignIn(
  db: Kysely<DB>,
  pendingToken: string,
  now: number,
): Promise<{ row: WebauthnChallengesTable } | ChallengeProblem> {
  const row = await db
    .selectFrom('webauthn_challenges')
    .selectAll()
    .where('pending_hash', '=', hashToken(pendingToken))
    .where('purpose', '=', 'sign_in')
    .executeTakeFirst();
  const out = checked(row, now, '');
  return typeof out === 'string' ? out : { row: out.row };
}

function checked(row: WebauthnChallengesTable | undefined, now: number, challenge: string) {
  if (!row) return 'unknown' as const;
  if (row.used_at !== null) return 'used' as const;
  if (row.expires_at <= now) return 'expired' as const;
  return { row, challenge };
}

/** Marks the challenge used, once: false when another request consumed it first (a replay racing the original). */
export async function consumeChallenge(tx: Tx, challengeHash: string): Promise<boolean> {
  const res = await tx.db
    .updateTable('webauthn_challenges')
    .set({ used_at: tx.now })
    .where('challenge_hash', '=', challengeHash)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/**
 * The challenge as bytes for the options: the WebAuthn library encodes a string challenge as UTF-8, while
 * the browser signs (and clientDataJSON carries) base64url(bytes), which is then exactly our string.
 */
export function challengeBytes(challenge: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.from(challenge, 'base64url'));
}
