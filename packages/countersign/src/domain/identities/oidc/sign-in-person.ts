import type { Actor, Tx } from '../../../db/committer.js';
import type { UsersTable } from '../../../db/types.js';
import type { Deps } from '../../../deps.js';
import { CsError } from '../../../lib/errors.js';
import { newId } from '../../../lib/ids.js';
import { bumpIdentityEpoch } from '../epoch.js';
import { groupsOf, replaceMemberships } from '../memberships.js';
import { createSession } from '../sessions/create-session.js';
import type { MappedClaims } from './map-claims.js';

export interface OidcSignIn {
  userId: string;
  session: { id: string; token: string; expiresAt: number };
  /** The person's role or groups changed at this sign-in (held requests must be re-checked). */
  accessChanged: boolean;
}

/** Where the sign-in came from, for the session row. */
export interface ClientInfo {
  userAgent: string | null;
  ip: string | null;
}

const IDP: Actor = { type: 'system', id: 'oidc' };

/**
 * Finds the person an IdP account is linked to, by (issuer, subject) only, creating them when just-in-time
 * provisioning is on; applies the role and groups the IdP asserts now; opens a session. One transaction:
 * a refused sign-in changes nothing. An unlinked account whose email matches an existing person is refused
 * rather than adopted: the IdP's email is not proof that its holder is that person here.
 */
export async function signInPerson(tx: Tx, deps: Deps, claims: MappedClaims, jit: boolean, client: ClientInfo): Promise<OidcSignIn> {
  const linked = await tx.db
    .selectFrom('linked_identities as l')
    .innerJoin('users as u', 'u.id', 'l.user_id')
    .selectAll('u')
    .where('l.issuer', '=', claims.issuer)
    .where('l.subject', '=', claims.subject)
    .executeTakeFirst();
  const user = linked ?? (await provision(tx, claims, jit));
  if (user.disabled_at !== null) throw new CsError('forbidden', 'this account is disabled; ask an admin');
  const accessChanged = await applyAccess(tx, user, claims);
  await tx.db
    .updateTable('linked_identities')
    .set({ last_sign_in_at: tx.now, email: claims.email ?? null })
    .where('issuer', '=', claims.issuer)
    .where('subject', '=', claims.subject)
    .execute();
  const session = await createSession(tx, deps.config, {
    userId: user.id,
    method: 'oidc',
    strongAt: claims.strongAt,
    userAgent: client.userAgent,
    ip: client.ip,
  });
  return { userId: user.id, session, accessChanged };
}

async function provision(tx: Tx, claims: MappedClaims, jit: boolean): Promise<UsersTable> {
  if (!jit) {
    throw new CsError(
      'forbidden',
      'no person here is linked to this identity-provider account; an admin links it (countersign users link-sso), or turns on auth.oidc.jit_provisioning',
    );
  }
  if (!claims.email || claims.emailVerified === false) {
    throw new CsError('forbidden', 'the identity provider did not assert a verified email, which a new person needs');
  }
  const taken = await tx.db.selectFrom('users').select('id').where('email', '=', claims.email).executeTakeFirst();
  if (taken) {
    throw new CsError(
      'forbidden',
      `a person with email ${claims.email} exists but is not linked to this identity-provider account; an admin links it (countersign users link-sso)`,
    );
  }
  const user: UsersTable = {
    id: newId(),
    email: claims.email,
    name: claims.name ?? claims.email,
    role: claims.access?.role ?? 'viewer',
    created_at: tx.now,
    disabled_at: null,
  };
  await tx.db.insertInto('users').values(user).execute();
  const groups = claims.access?.groups ?? [];
  await writeGroups(tx, user.id, groups);
  await link(tx, claims, user.id);
  tx.audit({ actor: IDP, event: 'user.created', data: { user_id: user.id, email: user.email, role: user.role, groups, via: 'oidc' } });
  return user;
}

/** Links an IdP account to a person (also the admin's pre-link). Audited in the caller's transaction. */
export async function link(tx: Tx, claims: Pick<MappedClaims, 'issuer' | 'subject' | 'email'>, userId: string, actor: Actor = IDP) {
  await tx.db
    .insertInto('linked_identities')
    .values({
      issuer: claims.issuer,
      subject: claims.subject,
      user_id: userId,
      email: claims.email ?? null,
      created_at: tx.now,
      last_sign_in_at: null,
    })
    .execute();
  tx.audit({ actor, event: 'identity.linked', data: { user_id: userId, issuer: claims.issuer, subject: claims.subject } });
}

/** The IdP is the source of truth for role and groups when a groups claim is configured: applied at every sign-in. */
async function applyAccess(tx: Tx, user: UsersTable, claims: MappedClaims): Promise<boolean> {
  if (!claims.access) return false;
  const { groups } = claims.access;
  const role = await keepLastAdmin(tx, user, claims.access.role);
  const previousGroups = await readGroups(tx, user);
  const roleChanged = user.role !== role;
  const groupsChanged = JSON.stringify(previousGroups) !== JSON.stringify([...new Set(groups)].sort());
  if (!roleChanged && !groupsChanged) return false;
  if (roleChanged) await tx.db.updateTable('users').set({ role }).where('id', '=', user.id).execute();
  if (groupsChanged) await writeGroups(tx, user.id, groups);
  if (roleChanged) {
    tx.audit({ actor: IDP, event: 'user.role_changed', data: { user_id: user.id, email: user.email, from: user.role, to: role } });
  }
  if (groupsChanged) {
    tx.audit({ actor: IDP, event: 'user.groups_changed', data: { user_id: user.id, email: user.email, from: previousGroups, to: groups } });
  }
  await bumpIdentityEpoch(tx);
  return true;
}

/**
 * An IdP mapping that demotes the last enabled admin would leave nobody able to administer the gateway
 * (and nobody to fix the mapping from here): the person stays admin, and the audit says why.
 */
async function keepLastAdmin(tx: Tx, user: UsersTable, role: UsersTable['role']): Promise<UsersTable['role']> {
  if (user.role !== 'admin' || role === 'admin') return role;
  const others = await tx.db
    .selectFrom('users')
    .select('id')
    .where('role', '=', 'admin')
    .where('disabled_at', 'is', null)
    .where('id', '!=', user.id)
    .executeTakeFirst();
  if (others) return role;
  tx.audit({ actor: IDP, event: 'oidc.last_admin_kept', data: { user_id: user.id, email: user.email, idp_role: role } });
  return 'admin';
}

// A person's groups, read and written in this one place (groups are rows: domain/identities/memberships.ts).
async function readGroups(tx: Tx, user: UsersTable): Promise<string[]> {
  return (await groupsOf(tx.db, user.id)).slice().sort();
}

async function writeGroups(tx: Tx, userId: string, groups: readonly string[]): Promise<void> {
  await replaceMemberships(tx, IDP, userId, groups);
}
