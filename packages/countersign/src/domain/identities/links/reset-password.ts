import { z } from 'zod';
import type { Deps } from '../../../deps.js';
import { CsError } from '../../../lib/errors.js';
import { parseInput } from '../../validate.js';
import { bumpIdentityEpoch } from '../epoch.js';
import { passkeysOf } from '../passkeys/passkey-rows.js';
import { startPasskeySignIn } from '../passkeys/start-passkey-sign-in.js';
import { hashNewPassword, storePassword } from '../passwords/new-password.js';
import type { PasswordSignInResult } from '../passwords/sign-in.js';
import { clearFailures, throttleKeys } from '../passwords/throttle.js';
import { createSession } from '../sessions/create-session.js';
import { revokeUserSessions } from '../sessions/revoke-user-sessions.js';
import { requireLiveLink, useLink } from './one-time-link.js';

export const ResetPasswordBody = z.strictObject({ token: z.string().max(128), password: z.string().max(1024) });

/**
 * Redeems a password reset link: sets the new password, ends every other session of the person (whoever
 * knew the old password is signed out) and signs them in, or, when they have a passkey, starts the passkey
 * step of the sign-in (the link proves the email, not the second factor).
 */
export async function resetPassword(
  deps: Deps,
  body: unknown,
  ctx: { ip: string; userAgent: string | null },
): Promise<PasswordSignInResult> {
  const input = parseInput(ResetPasswordBody, body);
  await requireLiveLink(deps.db.read, 'password_reset', input.token, deps.clock.now());
  const hash = await hashNewPassword(deps.config, input.password);
  const result = await deps.committer.run(async (tx) => {
    const link = await useLink(tx, 'password_reset', input.token);
    const user = await tx.db
      .selectFrom('users')
      .select(['id', 'email', 'disabled_at'])
      .where('id', '=', link.userId ?? '')
      .executeTakeFirst();
    if (!user || user.disabled_at !== null)
      throw new CsError('unauthenticated', 'this link is unknown, used or expired; ask an admin for a new one');
    await storePassword(tx, user.id, hash);
    const ended = await revokeUserSessions(tx, user.id);
    await clearFailures(tx, throttleKeys(user.email, ctx.ip).account);
    await bumpIdentityEpoch(tx);
    tx.audit({
      actor: { type: 'user', id: user.id },
      event: 'password.reset',
      data: { link_id: link.id, user_id: user.id, email: user.email, sessions_ended: ended },
    });
    // The link replaces the password, not the second factor: a person with a passkey still needs it.
    const passkeys = await passkeysOf(tx.db, user.id);
    if (passkeys.length > 0)
      return { kind: 'passkey_required' as const, ...(await startPasskeySignIn(tx, deps.config, user.id, passkeys, ctx.ip)) };
    const session = await createSession(tx, deps.config, {
      userId: user.id,
      method: 'password',
      strongAt: null,
      userAgent: ctx.userAgent,
      ip: ctx.ip,
    });
    return { kind: 'signed_in' as const, ...session, userId: user.id, email: user.email };
  });
  deps.identities.changed();
  return result;
}
