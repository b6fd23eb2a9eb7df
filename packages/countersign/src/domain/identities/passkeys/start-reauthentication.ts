import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import type { Deps } from '../../../deps.js';
import { CsError } from '../../../lib/errors.js';
import type { UserPrincipal } from '../principal.js';
import { challengeBytes, issueChallenge } from './challenges.js';
import { passkeysOf, transportsOf } from './passkey-rows.js';
import { relyingPartyOf, webauthn } from './relying-party.js';
import { sessionIdOf } from './session-of.js';

/**
 * Starts re-authenticating the caller's session with a passkey (what a step-up stage asks for): options
 * for navigator.credentials.get() with a challenge bound to this session, listing the person's passkeys.
 */
export async function startReauthentication(deps: Deps, principal: UserPrincipal): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const sessionId = sessionIdOf(principal, 're-authenticating');
  const passkeys = await passkeysOf(deps.db.read, principal.id);
  if (passkeys.length === 0)
    throw new CsError('invalid_request', 'you have no passkey to re-authenticate with; add one (POST /v1/me/passkeys/options)');
  const rp = relyingPartyOf(deps.config);
  const ttlMs = deps.config.auth.passkeys.challengeTtlMs;
  const { challenge } = await deps.committer.run((tx) =>
    issueChallenge(tx, { purpose: 'reauthenticate', userId: principal.id, sessionId, pendingHash: null, ttlMs }),
  );
  const { generateAuthenticationOptions } = await webauthn();
  return generateAuthenticationOptions({
    rpID: rp.rpId,
    challenge: challengeBytes(challenge),
    timeout: ttlMs,
    allowCredentials: passkeys.map((p) => ({ id: p.credential_id, transports: transportsOf(p) })),
    userVerification: 'preferred',
  });
}
