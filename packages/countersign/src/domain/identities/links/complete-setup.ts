import { z } from 'zod';
import type { Deps } from '../../../deps.js';
import { CsError } from '../../../lib/errors.js';
import { newId } from '../../../lib/ids.js';
import { parseInput } from '../../validate.js';
import { bumpIdentityEpoch } from '../epoch.js';
import { hashNewPassword, storePassword } from '../passwords/new-password.js';
import { createSession, type NewSession } from '../sessions/create-session.js';
import { endUnusedLinks, requireLiveLink, useLink } from './one-time-link.js';
import { needsSetup } from './setup-link.js';

export const SetupBody = z.strictObject({
  token: z.string().max(128),
  email: z.email().max(320),
  name: z.string().min(1).max(200).optional(),
  password: z.string().max(1024),
});

/**
 * Redeems the first-run link: the person becomes an admin with a password (an existing person with
 * that email, typically the admin `countersign users add` created, is promoted and given the password)
 * and is signed in. Refused once someone can already sign in as admin, even with an unused link.
 */
export async function completeSetup(
  deps: Deps,
  body: unknown,
  ctx: { ip: string; userAgent: string | null },
): Promise<NewSession & { userId: string; email: string }> {
  const input = parseInput(SetupBody, body);
  const email = input.email.toLowerCase();
  await requireLiveLink(deps.db.read, 'setup', input.token, deps.clock.now());
  const hash = await hashNewPassword(deps.config, input.password);
  const result = await deps.committer.run(async (tx) => {
    const link = await useLink(tx, 'setup', input.token);
    if (!(await needsSetup(tx.db))) throw new CsError('conflict', 'setup is already done: an admin can sign in');
    // The links other gateway starts printed can do nothing more.
    await endUnusedLinks(tx, 'setup', null);
    const existing = await tx.db.selectFrom('users').select(['id', 'role', 'disabled_at']).where('email', '=', email).executeTakeFirst();
    if (existing?.disabled_at != null) throw new CsError('conflict', `${email} is disabled; "countersign users enable" first`);
    const userId = existing?.id ?? newId();
    if (!existing) {
      await tx.db
        .insertInto('users')
        .values({ id: userId, email, name: input.name ?? email, role: 'admin', created_at: tx.now, disabled_at: null })
        .execute();
    } else if (existing.role !== 'admin') {
      await tx.db.updateTable('users').set({ role: 'admin' }).where('id', '=', userId).execute();
    }
    await storePassword(tx, userId, hash);
    await bumpIdentityEpoch(tx);
    const actor = { type: 'user' as const, id: userId };
    tx.audit({
      actor,
      event: 'setup.completed',
      data: { link_id: link.id, user_id: userId, email, created: !existing, previous_role: existing?.role ?? null },
    });
    const session = await createSession(tx, deps.config, {
      userId,
      method: 'setup_link',
      strongAt: null,
      userAgent: ctx.userAgent,
      ip: ctx.ip,
    });
    return { ...session, userId, email };
  });
  deps.identities.changed();
  return result;
}
