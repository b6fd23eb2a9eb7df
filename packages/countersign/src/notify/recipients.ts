import type { Kysely } from 'kysely';
import type { DB } from '../db/types.js';
import type { ActionView } from '../domain/actions/schemas.js';
import { type Approver, listApprovers } from '../domain/workflow/list-approvers.js';
import type { Asked } from '../events/types.js';

type ApproversView = Asked['approvers'];

/**
 * The people an approvers description names, as people with an email: enabled reviewers and admins named
 * by email, group or role, and the agent's owner only where the stage names the owner (the one case the
 * owner may vote). Never the person the action acts for, nor anyone who already voted on it (they cannot
 * vote again), nor, for a decision, the person who decided: the same exclusions a vote is checked against.
 */
export async function resolveRecipients(db: Kysely<DB>, action: ActionView, approvers: ApproversView): Promise<Approver[]> {
  const row = await db.selectFrom('actions').select(['agent_owner_id', 'on_behalf_of']).where('id', '=', action.id).executeTakeFirst();
  if (!row) return [];
  const roles = approvers.roles.filter((r): r is 'reviewer' | 'admin' => r === 'reviewer' || r === 'admin');
  const entry = { users: approvers.users, groups: approvers.groups, roles, owner: approvers.owner };
  const exclude = [
    ...(row.on_behalf_of === null ? [] : [row.on_behalf_of.toLowerCase()]),
    ...action.reviews.flatMap((r) => [r.reviewer.id, ...(r.for ? [r.for.id] : [])]),
    ...(action.decided_by?.type === 'user' && action.decided_by.id ? [action.decided_by.id] : []),
  ];
  const people = await listApprovers(db, [entry], row.agent_owner_id, exclude);
  return people.filter((p) => p.email.toLowerCase() !== row.on_behalf_of?.toLowerCase());
}
