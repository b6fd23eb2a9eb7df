import type { Kysely } from 'kysely';
import type { DB } from '../../../db/types.js';
import type { Deps } from '../../../deps.js';
import { createLink, linkUrl } from './one-time-link.js';

/**
 * Nobody can administer the gateway from a browser yet: no enabled admin can sign in with a password.
 * (An admin created with `countersign users add` has only an API key.) The SSO change adds "or a linked
 * identity" here.
 */
export async function needsSetup(db: Kysely<DB>): Promise<boolean> {
  const row = await db
    .selectFrom('users as u')
    .innerJoin('local_passwords as p', 'p.user_id', 'u.id')
    .select('u.id')
    .where('u.role', '=', 'admin')
    .where('u.disabled_at', 'is', null)
    .limit(1)
    .executeTakeFirst();
  return row === undefined;
}

/**
 * On a gateway nobody can sign in to, a one-time link for the first admin (printed by `countersign serve`
 * at start, with the address it listens on); null otherwise. Each start (of each node) issues its own; the first
 * one used completes setup and ends the others.
 */
export async function issueSetupLinkIfNeeded(deps: Deps, origin: URL): Promise<{ url: string; expiresAt: number } | null> {
  return deps.committer.run(async (tx) => {
    if (!(await needsSetup(tx.db))) return null;
    const link = await createLink(tx, 'setup', null, deps.config.auth.local.setupLinkTtlMs);
    tx.audit({ actor: { type: 'system', id: null }, event: 'setup_link.issued', data: { link_id: link.id, expires_at: link.expiresAt } });
    return { url: linkUrl(origin, 'setup', link.token), expiresAt: link.expiresAt };
  });
}
