import type { verifyRegistrationResponse } from '@simplewebauthn/server';
import type { Deps } from '../../../deps.js';
import { CsError } from '../../../lib/errors.js';
import { newId } from '../../../lib/ids.js';
import { parseInput } from '../../validate.js';
import type { UserPrincipal } from '../principal.js';
import { type ChallengeProblem, consumeChallenge, findChallenge } from './challenges.js';
import { passkeyView } from './passkey-rows.js';
import { relyingPartyOf, webauthn } from './relying-party.js';
import { type PasskeyView, RegisterPasskeyBody } from './schemas.js';
import { requireRecentSignIn } from './session-of.js';

export function challengeRefusal(problem: ChallengeProblem): CsError {
  switch (problem) {
    case 'unknown':
      return new CsError('invalid_request', 'this answers no ceremony this session started; ask for new options and try again');
    case 'used':
      return new CsError('conflict', 'this challenge was already used; a ceremony works once');
    case 'expired':
      return new CsError('invalid_request', 'the ceremony took too long; ask for new options and try again');
  }
}

/**
 * Finishes adding a passkey: the browser's answer must sign the challenge this session was given (used
 * once, even when verification then fails), come from our origin and rp id; the credential is stored and
 * the addition audited (`passkey.registered`). From now on the person's password alone no longer signs in.
 */
export async function finishRegistration(deps: Deps, principal: UserPrincipal, body: unknown): Promise<PasskeyView> {
  const sessionId = await requireRecentSignIn(deps, principal, 'adding a passkey');
  const input = parseInput(RegisterPasskeyBody, body);
  const rp = relyingPartyOf(deps.config);
  const found = await findChallenge(deps.db.read, input.credential.response.clientDataJSON, 'register', sessionId, deps.clock.now());
  if (typeof found === 'string') throw challengeRefusal(found);
  if (!(await deps.committer.run((tx) => consumeChallenge(tx, found.row.challenge_hash)))) throw challengeRefusal('used');
  let info: Awaited<ReturnType<typeof verifyRegistrationResponse>>['registrationInfo'];
  try {
    const { verifyRegistrationResponse } = await webauthn();
    const v = await verifyRegistrationResponse({
      response: input.credential,
      expectedChallenge: found.challenge,
      expectedOrigin: rp.origins,
      expectedRPID: rp.rpId,
      requireUserVerification: false,
    });
    info = v.registrationInfo;
  } catch (e) {
    throw new CsError('invalid_request', `the passkey could not be verified: ${(e as Error).message}`);
  }
  if (!info) throw new CsError('invalid_request', 'the passkey could not be verified');
  const cred = info.credential;
  const id = newId();
  const row = await deps.committer.run(async (tx) => {
    const taken = await tx.db.selectFrom('passkeys').select('user_id').where('credential_id', '=', cred.id).executeTakeFirst();
    if (taken) throw new CsError('conflict', 'this passkey is already registered');
    const values = {
      id,
      user_id: principal.id,
      credential_id: cred.id,
      public_key: Buffer.from(cred.publicKey).toString('base64url'),
      sign_count: cred.counter,
      transports: JSON.stringify(input.credential.response.transports ?? []),
      name: input.name ?? 'Passkey',
      device_type: info.credentialDeviceType,
      backed_up: info.credentialBackedUp ? 1 : 0,
      created_at: tx.now,
      last_used_at: null,
    };
    await tx.db.insertInto('passkeys').values(values).execute();
    tx.audit({
      actor: { type: 'user', id: principal.id },
      event: 'passkey.registered',
      data: {
        passkey_id: id,
        user_id: principal.id,
        name: values.name,
        device_type: values.device_type,
        backed_up: info.credentialBackedUp,
        user_verified: info.userVerified,
        session_id: sessionId,
      },
    });
    return values;
  });
  return passkeyView(row);
}
