import { z } from 'zod';
import type { Actor } from '../../../db/committer.js';
import type { Deps } from '../../../deps.js';
import { CsError } from '../../../lib/errors.js';
import { parseInput } from '../../validate.js';
import { findUser } from '../lookup.js';
import { link } from './sign-in-person.js';

export const LinkInput = z.strictObject({
  email: z.email().max(320),
  /** The IdP's `sub` for this person (Keycloak: the user id; Entra ID: `sub`, which is per application: see docs/people.md). */
  subject: z.string().min(1).max(512),
  /** Default: the configured `auth.oidc.issuer`. */
  issuer: z.url().max(2048).optional(),
});

function issuerOf(deps: Deps, given: string | undefined): string {
  const issuer = given ?? deps.config.oidc?.issuer;
  if (!issuer) throw new CsError('invalid_request', 'name the issuer (--issuer) or configure auth.oidc');
  return issuer;
}

/**
 * An admin links an existing person to their IdP account ahead of their first sign-in: the only way an
 * existing person (an API-key user, say) becomes reachable by SSO, since sign-in never matches by email.
 */
export async function linkIdentity(deps: Deps, actor: Actor, input: z.input<typeof LinkInput>) {
  const data = parseInput(LinkInput, input);
  const issuer = issuerOf(deps, data.issuer);
  return deps.committer.run(async (tx) => {
    const user = await findUser(tx.db, data.email);
    const existing = await tx.db
      .selectFrom('linked_identities as l')
      .innerJoin('users as u', 'u.id', 'l.user_id')
      .select('u.email')
      .where('l.issuer', '=', issuer)
      .where('l.subject', '=', data.subject)
      .executeTakeFirst();
    if (existing) throw new CsError('conflict', `that IdP account is already linked to ${existing.email}`);
    await link(tx, { issuer, subject: data.subject, email: undefined }, user.id, actor);
    return { email: user.email, issuer, subject: data.subject };
  });
}

export const UnlinkInput = LinkInput.pick({ subject: true, issuer: true });

/**
 * Ends the link: the IdP account can no longer sign in here (sessions already open are ended separately).
 * `of`: the person it must be linked to (the admin API names the person in its path); another person's
 * link is then not found rather than removed.
 */
export async function unlinkIdentity(deps: Deps, actor: Actor, input: z.input<typeof UnlinkInput>, of?: { userId: string }) {
  const data = parseInput(UnlinkInput, input);
  const issuer = issuerOf(deps, data.issuer);
  return deps.committer.run(async (tx) => {
    const row = await tx.db
      .selectFrom('linked_identities')
      .select('user_id')
      .where('issuer', '=', issuer)
      .where('subject', '=', data.subject)
      .executeTakeFirst();
    if (!row || (of !== undefined && row.user_id !== of.userId)) {
      throw new CsError('not_found', `no ${of ? 'such link of this person' : 'person is linked'} to subject ${data.subject} at ${issuer}`);
    }
    await tx.db.deleteFrom('linked_identities').where('issuer', '=', issuer).where('subject', '=', data.subject).execute();
    tx.audit({ actor, event: 'identity.unlinked', data: { user_id: row.user_id, issuer, subject: data.subject } });
    return { userId: row.user_id, issuer, subject: data.subject };
  });
}
