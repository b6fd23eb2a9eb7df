import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.js';
import type { FrozenApprovers } from './frozen.js';

export interface Approver {
  id: string;
  email: string;
  name: string;
}

const ROLES_AT_OR_ABOVE = { reviewer: ['reviewer', 'admin'], admin: ['admin'] } as const;

/**
 * Everyone the approvers entries name, as one query over people and group memberships: enabled
 * reviewers and admins named by email, in a named group, at or above a named role, or the agent's
 * owner where an entry says `owner: true`. The same rule as `matchesApprovers` (eligibility.ts), for
 * the side that needs the list (who to notify, the console's "waiting on"); `exclude` drops people
 * the action itself rules out (the on_behalf_of person, people who already voted).
 */
export async function listApprovers(
  db: Kysely<DB>,
  entries: readonly FrozenApprovers[],
  agentOwnerId: string,
  exclude: readonly string[] = [],
): Promise<Approver[]> {
  const emails = [...new Set(entries.flatMap((a) => (a.users ?? []).map((u) => u.toLowerCase())))];
  const groups = [...new Set(entries.flatMap((a) => a.groups ?? []))];
  const roles = [...new Set(entries.flatMap((a) => (a.roles ?? []).flatMap((r) => ROLES_AT_OR_ABOVE[r])))];
  const owner = entries.some((a) => a.owner === true);
  if (emails.length + groups.length + roles.length === 0 && !owner) return [];
  const rows = await db
    .selectFrom('users as u')
    .select(['u.id', 'u.email', 'u.name'])
    .where('u.disabled_at', 'is', null)
    .where('u.role', 'in', ['reviewer', 'admin'])
    .where((eb) =>
      eb.or([
        ...(emails.length ? [eb('u.email', 'in', emails)] : []),
        ...(roles.length ? [eb('u.role', 'in', roles)] : []),
        ...(owner ? [eb('u.id', '=', agentOwnerId)] : []),
        ...(groups.length
          ? [
              eb.exists(
                eb
                  .selectFrom('group_members as m')
                  .innerJoin('groups as g', 'g.id', 'm.group_id')
                  .select('m.user_id')
                  .whereRef('m.user_id', '=', 'u.id')
                  .where('g.name', 'in', groups),
              ),
            ]
          : []),
      ]),
    )
    .orderBy('u.email')
    .execute();
  // The agent's owner votes only where an entry names `owner: true`, never through a group or role.
  return rows.filter((r) => (owner || r.id !== agentOwnerId) && !exclude.includes(r.id) && !exclude.includes(r.email));
}
