import type { PublicKeyCredentialCreationOptionsJSON } from '@simplewebauthn/server';
import type { Deps } from '../../../deps.js';
import type { UserPrincipal } from '../principal.js';
import { challengeBytes, issueChallenge } from './challenges.js';
import { passkeysOf, transportsOf } from './passkey-rows.js';
import { relyingPartyOf, webauthn } from './relying-party.js';
import { requireRecentSignIn } from './session-of.js';

/**
 * Starts adding a passkey: the options for navigator.credentials.create(), with a challenge bound to the
 * caller's session (no other session can finish this ceremony). The person's existing passkeys are
 * excluded, so one authenticator is not registered twice.
 */
export async function startRegistration(deps: Deps, principal: UserPrincipal): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const sessionId = await requireRecentSignIn(deps, principal, 'adding a passkey');
  const rp = relyingPartyOf(deps.config);
  const existing = await passkeysOf(deps.db.read, principal.id);
  const { challenge } = await deps.committer.run((tx) =>
    issueChallenge(tx, {
      purpose: 'register',
      userId: principal.id,
      sessionId,
      pendingHash: null,
      ttlMs: deps.config.auth.passkeys.challengeTtlMs,
    }),
  );
  const { generateRegistrationOptions } = await webauthn();
  return generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.rpId,
    userName: principal.email,
    userDisplayName: principal.name || principal.email,
    // The user handle is the person's id: stable, and reveals nothing the server does not already know.
    userID: new Uint8Array(Buffer.from(principal.id, 'utf8')),
    challenge: challengeBytes(challenge),
    timeout: deps.config.auth.passkeys.challengeTtlMs,
    attestationType: 'none',
    excludeCredentials: existing.map((p) => ({ id: p.credential_id, transports: transportsOf(p) })),
    authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
  });
}
