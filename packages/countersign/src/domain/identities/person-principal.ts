import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.js';
import { groupsOf } from './memberships.js';
import { type Credential, ROLES, type Role, type UserPrincipal } from './principal.js';

/**
 * An enabled person as a principal proving who they are with `credential` (a chat user, an email link):
 * how a channel other than the API hands a vote to the review verb, which then applies every rule it
 * applies to any caller. Null for an unknown or disabled person.
 */
export async function personPrincipal(db: Kysely<DB>, userId: string, credential: Credential): Promise<UserPrincipal | null> {
  const u = await db.selectFrom('users').select(['id', 'email', 'name', 'role', 'disabled_at']).where('id', '=', userId).executeTakeFirst();
  if (!u || u.disabled_at !== null) return null;
  const role: Role = (ROLES as readonly string[]).includes(u.role) ? (u.role as Role) : 'viewer';
  return { type: 'user', id: u.id, email: u.email, name: u.name, role, groups: await groupsOf(db, u.id), credential };
}
