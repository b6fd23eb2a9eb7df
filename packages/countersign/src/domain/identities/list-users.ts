import type { Deps } from '../../deps.js';
import { groupsByUser } from './memberships.js';
import type { Role } from './principal.js';

export interface UserListItem {
  id: string;
  email: string;
  name: string;
  role: Role;
  groups: string[];
  disabled: boolean;
  created_at: string;
  /** Keys not revoked (a disabled person's keys are refused all the same). */
  active_keys: number;
}

/** Every person, oldest first, with how many usable keys each holds: what an operator checks when offboarding. */
/** `onlyId` narrows to one person (what the admin API answers after a change). */
export async function listUsers(deps: Deps, onlyId?: string): Promise<UserListItem[]> {
  let q = deps.db.read
    .selectFrom('users as u')
    .leftJoin('api_keys as k', (j) =>
      j.onRef('k.principal_id', '=', 'u.id').on('k.principal_type', '=', 'user').on('k.revoked_at', 'is', null),
    )
    .select(['u.id', 'u.email', 'u.name', 'u.role', 'u.disabled_at', 'u.created_at'])
    .select((eb) => eb.fn.count<number>('k.id').as('keys'))
    .groupBy(['u.id', 'u.email', 'u.name', 'u.role', 'u.disabled_at', 'u.created_at'])
    .orderBy('u.created_at')
    .orderBy('u.email');
  if (onlyId !== undefined) q = q.where('u.id', '=', onlyId);
  const rows = await q.execute();
  const groups = await groupsByUser(deps.db.read);
  return rows.map((r) => ({
    id: r.id,
    email: r.email,
    name: r.name,
    role: r.role as Role,
    groups: groups.get(r.id) ?? [],
    disabled: r.disabled_at !== null,
    created_at: new Date(Number(r.created_at)).toISOString(),
    active_keys: Number(r.keys),
  }));
}
