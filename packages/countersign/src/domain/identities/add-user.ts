import { z } from 'zod';
import type { Actor, Tx } from '../../db/committer.js';
import type { Deps } from '../../deps.js';
import { CsError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { parseInput } from '../validate.js';
import { generateKey } from './api-keys.js';
import { replaceMemberships } from './memberships.js';
import { ROLES, type Role } from './principal.js';
import { storeKey } from './store-key.js';

/** Shared with set-user-groups so a group accepted at creation is accepted on change, and no other. */
export const GroupName = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/i, 'group names are letters, digits, . _ -');
export const GroupNames = z.array(GroupName).max(64).default([]);

export const AddUserInput = z.strictObject({
  email: z.email().max(320),
  name: z.string().min(1).max(200).optional(),
  role: z.enum(ROLES).default('reviewer'),
  groups: GroupNames,
});

export interface AddedPerson {
  id: string;
  email: string;
  role: Role;
  groups: string[];
}

export interface AddedUser extends AddedPerson {
  apiKey: string;
  keyPrefix: string;
}

/**
 * Inserts a person (no credential) with their groups and the `user.created` audit entry, inside the
 * caller's transaction. Sign-in flows that provision people just in time call this too.
 */
export async function insertPerson(tx: Tx, actor: Actor, data: z.output<typeof AddUserInput>): Promise<AddedPerson> {
  const email = data.email.toLowerCase();
  const exists = await tx.db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirst();
  if (exists) throw new CsError('conflict', `a user with email ${email} already exists`);
  const id = newId();
  await tx.db
    .insertInto('users')
    .values({ id, email, name: data.name ?? email, role: data.role, created_at: tx.now, disabled_at: null })
    .execute();
  const { groups } = await replaceMemberships(tx, actor, id, data.groups);
  tx.audit({ actor, event: 'user.created', data: { user_id: id, email, role: data.role, groups } });
  return { id, email, role: data.role, groups };
}

/** Creates a person without any credential: they sign in (password, SSO) or get a key later. */
export async function addPerson(deps: Deps, actor: Actor, input: z.input<typeof AddUserInput>): Promise<AddedPerson> {
  const data = parseInput(AddUserInput, input);
  return deps.committer.run((tx) => insertPerson(tx, actor, data));
}

/** Creates a person and their first API key (returned once, stored hashed). */
export async function addUser(deps: Deps, actor: Actor, input: z.input<typeof AddUserInput>): Promise<AddedUser> {
  const data = parseInput(AddUserInput, input);
  const key = generateKey();
  return deps.committer.run(async (tx) => {
    const person = await insertPerson(tx, actor, data);
    await storeKey(tx, actor, key, { type: 'user', id: person.id });
    return { ...person, apiKey: key.key, keyPrefix: key.prefix };
  });
}
