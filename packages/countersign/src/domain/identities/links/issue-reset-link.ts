import type { Actor } from '../../../db/committer.js';
import type { Deps } from '../../../deps.js';
import { CsError } from '../../../lib/errors.js';
import { findUser } from '../lookup.js';
import { createLink, linkUrl } from './one-time-link.js';

/**
 * An admin's one-time link that lets one person choose a new password (a forgotten one, or a first one
 * for a person created without). Single-use, short-lived, stored hashed; a newer link ends older ones.
 * The admin hands it over; the gateway sends no email.
 */
export async function issueResetLink(
  deps: Deps,
  actor: Actor,
  email: string,
  origin: URL,
): Promise<{ url: string; expiresAt: number; userId: string; email: string }> {
  return deps.committer.run(async (tx) => {
    const user = await findUser(tx.db, email);
    if (user.disabled_at !== null) throw new CsError('conflict', `${user.email} is disabled; enable them first`);
    const link = await createLink(tx, 'password_reset', user.id, deps.config.auth.local.resetLinkTtlMs);
    tx.audit({
      actor,
      event: 'password_reset_link.issued',
      data: { link_id: link.id, user_id: user.id, email: user.email, expires_at: link.expiresAt },
    });
    return { url: linkUrl(origin, 'password_reset', link.token), expiresAt: link.expiresAt, userId: user.id, email: user.email };
  });
}
