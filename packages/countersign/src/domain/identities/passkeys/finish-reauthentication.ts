import type { Deps } from '../../../deps.js';
import { CsError } from '../../../lib/errors.js';
import { parseInput } from '../../validate.js';
import { recordSignInFailure, throttleKeys } from '../passwords/throttle.js';
import type { UserPrincipal } from '../principal.js';
import { consumeChallenge, findChallenge } from './challenges.js';
import { challengeRefusal } from './finish-registration.js';
import { ReauthenticateBody } from './schemas.js';
import { sessionIdOf } from './session-of.js';
import { recordPasskeyUse, verifyAssertion } from './verify-assertion.js';

/**
 * Finishes re-authenticating the caller's session: the assertion must answer the challenge this session was
 * given (once) with one of the caller's passkeys. The session's strong_at becomes now (compare-and-set on
 * the live session), audited `session.reauthenticated` with method passkey. A refusal counts for the
 * sign-in throttle like a failed sign-in and is audited.
 */
export async function finishReauthentication(
  deps: Deps,
  principal: UserPrincipal,
  body: unknown,
  ip: string,
): Promise<{ session_id: string; strong_at: string }> {
  const sessionId = sessionIdOf(principal, 're-authenticating');
  const input = parseInput(ReauthenticateBody, body);
  const found = await findChallenge(deps.db.read, input.credential.response.clientDataJSON, 'reauthenticate', sessionId, deps.clock.now());
  if (typeof found === 'string') throw challengeRefusal(found);
  if (!(await deps.committer.run((tx) => consumeChallenge(tx, found.row.challenge_hash)))) throw challengeRefusal('used');
  const result = await verifyAssertion(deps.db.read, deps.config, principal.id, input.credential, found.challenge);
  if (!result.ok) {
    const keys = throttleKeys(principal.email, ip);
    await deps.committer.run((tx) =>
      recordSignInFailure(tx, deps.config, keys, {
        email: principal.email,
        ip,
        user_id: principal.id,
        method: 'passkey',
        reason: `reauthenticate: ${result.problem}: ${result.detail}`,
      }),
    );
    throw new CsError('forbidden', 'the passkey was not accepted; try again with one of your passkeys');
  }
  const strongAt = await deps.committer.run(async (tx) => {
    if (!(await recordPasskeyUse(tx, result))) throw new CsError('conflict', 'that passkey was used at the same moment; try again');
    const res = await tx.db
      .updateTable('sessions')
      .set({ strong_at: tx.now })
      .where('id', '=', sessionId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) throw new CsError('unauthenticated', 'the session has ended; sign in again');
    tx.audit({
      actor: { type: 'user', id: principal.id },
      event: 'session.reauthenticated',
      data: {
        session_id: sessionId,
        user_id: principal.id,
        method: 'passkey',
        passkey_id: result.passkey.id,
        user_verified: result.userVerified,
      },
    });
    return tx.now;
  });
  return { session_id: sessionId, strong_at: new Date(strongAt).toISOString() };
}
