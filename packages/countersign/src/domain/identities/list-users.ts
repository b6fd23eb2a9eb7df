import type { Deps } from '../../deps.js';
import { groupsByUser } from './memberships.js';

export interface UserListItem {
  id: string;
  email: string;
  name: string;
  role: string;
  groups: string[];
  disabled: boolean;
  created_at: string;
  /** Keys not revoked (a disabled person's keys are refused all the same). */
  active_keys: number;
}

/** Every person, oldest first, with how many usable keys each holds: what an operator checks when offboarding. */
export async function listUsers(deps: Deps): Promise<UserListItem[]> {
  const rows = await deps.db.read
    .selectFrom('users as u')
    .leftJoin('api_keys as k', (j) =>
      j.onRef('k.principal_id', '=', 'u.id').on('k.principal_type', '=', 'user').on('k.revoked_at', 'is', null),
    )
    .select(['u.id', 'u.email', 'u.name', 'u.role', 'u.disabled_at', 'u.created_at'])
    .select((eb) => eb.fn.count<number>('k.id').as('keys'))
    .groupBy(['u.id', 'u.email', 'u.name', 'u.role', 'u.disabled_at', 'u.created_at'])
    .orderBy('u.created_at')
    .orderBy('u.email')
    .execute();
  const groups = await groupsByUser(deps.db.read);
  return rows.map((r) => ({
    id: r.id,
    email: r.email,
    name: r.name,
    role: r.role,
    groups: groups.get(r.id) ?? [],
    disabled: r.disabled_at !== null,
    created_at: new Date(Number(r.created_at)).toISOString(),
    active_keys: Number(r.keys),
  }));
}
