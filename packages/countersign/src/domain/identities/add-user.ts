import { z } from 'zod';
import type { Actor } from '../../db/committer.js';
import type { Deps } from '../../deps.js';
import { CsError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { parseInput } from '../validate.js';
import { generateKey } from './api-keys.js';
import { ROLES } from './principal.js';
import { storeKey } from './store-key.js';

/** Shared with set-user-groups so a group accepted at creation is accepted on change, and no other. */
export const GroupNames = z
  .array(z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/i, 'group names are letters, digits, . _ -'))
  .max(64)
  .default([]);

export const AddUserInput = z.strictObject({
  email: z.email().max(320),
  name: z.string().min(1).max(200).optional(),
  role: z.enum(ROLES).default('reviewer'),
  groups: GroupNames,
});

export interface AddedUser {
  id: string;
  email: string;
  role: string;
  groups: string[];
  apiKey: string;
  keyPrefix: string;
}

/** Creates a person and their first API key (returned once, stored hashed). */
export async function addUser(deps: Deps, actor: Actor, input: z.input<typeof AddUserInput>): Promise<AddedUser> {
  const data = parseInput(AddUserInput, input);
  const email = data.email.toLowerCase();
  const groups = [...new Set(data.groups)].sort();
  const key = generateKey();
  return deps.committer.run(async (tx) => {
    const exists = await tx.db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirst();
    if (exists) throw new CsError('conflict', `a user with email ${email} already exists`);
    const id = newId();
    await tx.db
      .insertInto('users')
      .values({
        id,
        email,
        name: data.name ?? email,
        role: data.role,
        groups: JSON.stringify(groups),
        created_at: tx.now,
        disabled_at: null,
      })
      .execute();
    tx.audit({ actor, event: 'user.created', data: { user_id: id, email, role: data.role, groups } });
    await storeKey(tx, actor, key, { type: 'user', id });
    return { id, email, role: data.role, groups, apiKey: key.key, keyPrefix: key.prefix };
  });
}
