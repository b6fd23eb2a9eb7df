import { z } from 'zod';
import type { Deps } from '../../../deps.js';
import { CsError } from '../../../lib/errors.js';
import { parseInput } from '../../validate.js';
import { bumpIdentityEpoch } from '../epoch.js';
import { hashNewPassword, storePassword } from '../passwords/new-password.js';
import { clearFailures, throttleKeys } from '../passwords/throttle.js';
import { createSession, type NewSession } from '../sessions/create-session.js';
import { revokeUserSessions } from '../sessions/revoke-user-sessions.js';
import { requireLiveLink, useLink } from './one-time-link.js';

export const ResetPasswordBody = z.strictObject({ token: z.string().max(128), password: z.string().max(1024) });

/**
 * Redeems a password reset link: sets the new password, ends every other session of the person (whoever
 * knew the old password is signed out) and signs them in.
 */
export async function resetPassword(
  deps: Deps,
  body: unknown,
  ctx: { ip: string; userAgent: string | null },
): Promise<NewSession & { userId: string; email: string }> {
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
    const session = await createSession(tx, deps.config, {
      userId: user.id,
      method: 'password',
      strongAt: null,
      userAgent: ctx.userAgent,
      ip: ctx.ip,
    });
    return { ...session, userId: user.id, email: user.email };
  });
  deps.identities.changed();
  return result;
}
