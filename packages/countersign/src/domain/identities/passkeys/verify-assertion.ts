import type { Kysely } from 'kysely';
import type { Config } from '../../../config/schema.js';
import type { Tx } from '../../../db/committer.js';
import type { DB, PasskeysTable } from '../../../db/types.js';
import { webAuthnCredential } from './passkey-rows.js';
import { type AuthenticationCredential, relyingPartyOf, webauthn } from './relying-party.js';

/** Why an assertion is refused; audited, never shown in more detail than "the passkey was not accepted". */
export type AssertionProblem = 'unknown_credential' | 'other_persons_credential' | 'counter_went_backwards' | 'invalid';

export type AssertionResult =
  | { ok: true; passkey: PasskeysTable; newCounter: number; backedUp: boolean; userVerified: boolean }
  | { ok: false; problem: AssertionProblem; detail: string };

/** The signature counter in authenticator data (bytes 33–36, after the rp id hash and the flags), or null. */
function counterIn(authenticatorData: string): number | null {
  const bytes = Buffer.from(authenticatorData, 'base64url');
  return bytes.length >= 37 ? bytes.readUInt32BE(33) : null;
}

/**
 * Checks a browser's assertion for `userId` against the challenge it was given: the credential must be one
 * of that person's passkeys, signed for our rp id from one of our origins, and its counter must have risen
 * (a counter that stands still or goes back, when the authenticator counts at all, means a clone).
 */
export async function verifyAssertion(
  db: Kysely<DB>,
  config: Config,
  userId: string,
  credential: AuthenticationCredential,
  challenge: string,
): Promise<AssertionResult> {
  const passkey = await db.selectFrom('passkeys').selectAll().where('credential_id', '=', credential.id).executeTakeFirst();
  if (!passkey) return { ok: false, problem: 'unknown_credential', detail: 'no such passkey is registered' };
  if (passkey.user_id !== userId) return { ok: false, problem: 'other_persons_credential', detail: "another person's passkey" };
  const stored = Number(passkey.sign_count);
  const counter = counterIn(credential.response.authenticatorData);
  if (counter !== null && (counter > 0 || stored > 0) && counter <= stored) {
    return { ok: false, problem: 'counter_went_backwards', detail: `sign counter ${counter} after ${stored}: a cloned authenticator?` };
  }
  const rp = relyingPartyOf(config);
  try {
    const { verifyAuthenticationResponse } = await webauthn();
    const v = await verifyAuthenticationResponse({
      response: credential,
      expectedChallenge: challenge,
      expectedOrigin: rp.origins,
      expectedRPID: rp.rpId,
      credential: webAuthnCredential(passkey),
      requireUserVerification: false,
    });
    if (!v.verified) return { ok: false, problem: 'invalid', detail: 'the signature does not verify' };
    const i = v.authenticationInfo;
    return { ok: true, passkey, newCounter: i.newCounter, backedUp: i.credentialBackedUp, userVerified: i.userVerified };
  } catch (e) {
    return { ok: false, problem: 'invalid', detail: (e as Error).message.slice(0, 300) };
  }
}

/**
 * Records a verified use: the new counter, compare-and-set on the old one, so two uses racing with the same
 * counter cannot both count. False when the race was lost.
 */
export async function recordPasskeyUse(tx: Tx, r: Extract<AssertionResult, { ok: true }>): Promise<boolean> {
  const res = await tx.db
    .updateTable('passkeys')
    .set({ sign_count: r.newCounter, last_used_at: tx.now, backed_up: r.backedUp ? 1 : 0 })
    .where('id', '=', r.passkey.id)
    .where('sign_count', '=', r.passkey.sign_count)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}
