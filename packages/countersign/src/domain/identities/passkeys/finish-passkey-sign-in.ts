import type { Deps } from '../../../deps.js';
import { CsError } from '../../../lib/errors.js';
import { parseInput } from '../../validate.js';
import { clearFailures, lockedFor, recordSignInFailure, throttleKeys } from '../passwords/throttle.js';
import { createSession, type NewSession } from '../sessions/create-session.js';
import { hashToken, isTokenShaped } from '../sessions/tokens.js';
import { consumeChallenge, findPendingSignIn } from './challenges.js';
import { signedChallenge } from './relying-party.js';
import { PasskeySignInBody } from './schemas.js';
import { recordPasskeyUse, verifyAssertion } from './verify-assertion.js';

const ENDED = 'this sign-in has ended (used, expired or unknown); enter your password again';
const REFUSED = 'the passkey was not accepted; enter your password again';

/**
 * The passkey step of a sign-in: the pending sign-in answers once (whatever the outcome), the assertion
 * must sign its challenge with one of that person's passkeys. Success opens a session with method
 * `passkey`, strongly authenticated now; every refusal counts for the sign-in throttle and is audited.
 */
export async function finishPasskeySignIn(
  deps: Deps,
  body: unknown,
  ctx: { ip: string; userAgent: string | null },
): Promise<NewSession & { userId: string; email: string }> {
  const input = parseInput(PasskeySignInBody, body);
  const found = isTokenShaped(input.pending_token)
    ? await findPendingSignIn(deps.db.read, input.pending_token, deps.clock.now())
    : 'unknown';
  if (typeof found === 'string') throw new CsError('unauthenticated', ENDED);
  const pending = found.row;
  const user = await deps.db.read
    .selectFrom('users')
    .select(['id', 'email', 'disabled_at'])
    .where('id', '=', pending.user_id)
    .executeTakeFirstOrThrow();
  const keys = throttleKeys(user.email, ctx.ip);
  const locked = await lockedFor(deps.db.read, [keys.account, keys.address], deps.clock.now());
  if (locked > 0) {
    const seconds = Math.ceil(locked / 1000);
    throw new CsError('rate_limited', `too many failed sign-ins; retry in ${seconds} s`, { details: { retry_after_seconds: seconds } });
  }
  const fail = async (reason: string, message: string): Promise<never> => {
    await deps.committer.run((tx) =>
      recordSignInFailure(tx, deps.config, keys, { email: user.email, ip: ctx.ip, user_id: user.id, method: 'passkey', reason }),
    );
    throw new CsError('unauthenticated', message);
  };
  // One answer per pending sign-in: consumed before anything is checked, so a refused try cannot be retried.
  if (!(await deps.committer.run((tx) => consumeChallenge(tx, pending.challenge_hash)))) return fail('pending_used', ENDED);
  const challenge = signedChallenge(input.credential.response.clientDataJSON);
  if (challenge === null || hashToken(challenge) !== pending.challenge_hash) return fail('wrong_challenge', REFUSED);
  const result = await verifyAssertion(deps.db.read, deps.config, user.id, input.credential, challenge);
  if (!result.ok) return fail(`${result.problem}: ${result.detail}`, REFUSED);
  if (user.disabled_at !== null) return fail('disabled', REFUSED);
  const session = await deps.committer.run(async (tx) => {
    if (!(await recordPasskeyUse(tx, result))) return null;
    await clearFailures(tx, keys.account);
    tx.audit({
      actor: { type: 'user', id: user.id },
      event: 'passkey.used',
      data: { passkey_id: result.passkey.id, user_id: user.id, purpose: 'sign_in', user_verified: result.userVerified },
    });
    return createSession(tx, deps.config, { userId: user.id, method: 'passkey', strongAt: tx.now, userAgent: ctx.userAgent, ip: ctx.ip });
  });
  if (session === null) return fail('counter_race', REFUSED);
  return { ...session, userId: user.id, email: user.email };
}
