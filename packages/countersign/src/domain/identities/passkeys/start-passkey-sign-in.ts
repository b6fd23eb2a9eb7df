import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import type { Config } from '../../../config/schema.js';
import type { Tx } from '../../../db/committer.js';
import type { PasskeysTable } from '../../../db/types.js';
import { newToken } from '../sessions/tokens.js';
import { challengeBytes, issueChallenge } from './challenges.js';
import { transportsOf } from './passkey-rows.js';
import { relyingPartyOf, webauthn } from './relying-party.js';

export interface PendingSignIn {
  /** Names the half-done sign-in; shown once, stored as sha256, works once and only with the passkey step. */
  pendingToken: string;
  expiresAt: number;
  options: PublicKeyCredentialRequestOptionsJSON;
}

/**
 * The right password of a person with passkeys opens no session: it starts the passkey step instead (a
 * pending sign-in and the options for navigator.credentials.get(), listing only that person's passkeys).
 * Runs inside the password check's transaction, audited `auth.passkey_required`.
 */
export async function startPasskeySignIn(
  tx: Tx,
  config: Config,
  userId: string,
  passkeys: PasskeysTable[],
  ip: string,
): Promise<PendingSignIn> {
  const rp = relyingPartyOf(config);
  const pending = newToken();
  const ttlMs = config.auth.passkeys.challengeTtlMs;
  const { challenge, expiresAt } = await issueChallenge(tx, {
    purpose: 'sign_in',
    userId,
    sessionId: null,
    pendingHash: pending.hash,
    ttlMs,
  });
  const { generateAuthenticationOptions } = await webauthn();
  const options = await generateAuthenticationOptions({
    rpID: rp.rpId,
    challenge: challengeBytes(challenge),
    timeout: ttlMs,
    allowCredentials: passkeys.map((p) => ({ id: p.credential_id, transports: transportsOf(p) })),
    // A second factor after a password: possession is what is proved; a PIN or biometric is welcome, not required.
    userVerification: 'preferred',
  });
  tx.audit({ actor: { type: 'user', id: userId }, event: 'auth.passkey_required', data: { user_id: userId, ip } });
  return { pendingToken: pending.token, expiresAt, options };
}
