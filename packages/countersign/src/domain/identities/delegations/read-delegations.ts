import type { Kysely } from 'kysely';
import type { DB, DelegationsTable } from '../../../db/types.js';
import type { DelegationState, DelegationView } from './schemas.js';

const iso = (ms: number) => new Date(ms).toISOString();

export function delegationState(d: Pick<DelegationsTable, 'starts_at' | 'ends_at' | 'revoked_at'>, now: number): DelegationState {
  if (d.revoked_at !== null) return 'revoked';
  if (now < d.starts_at) return 'upcoming';
  return now < d.ends_at ? 'active' : 'ended';
}

/** Delegations with both people's emails (and who created and revoked them), newest first; filtered by `where`. */
export async function readDelegations(
  db: Kysely<DB>,
  now: number,
  where: { id?: string; delegatorId?: string; delegateId?: string; limit?: number },
): Promise<DelegationView[]> {
  let q = db
    .selectFrom('delegations as d')
    .innerJoin('users as a', 'a.id', 'd.delegator_id')
    .innerJoin('users as b', 'b.id', 'd.delegate_id')
    .leftJoin('users as c', 'c.id', 'd.created_by_id')
    .leftJoin('users as r', 'r.id', 'd.revoked_by_id')
    .selectAll('d')
    .select(['a.email as delegator_email', 'b.email as delegate_email', 'c.email as created_by_email', 'r.email as revoked_by_email']);
  if (where.id !== undefined) q = q.where('d.id', '=', where.id);
  if (where.delegatorId !== undefined) q = q.where('d.delegator_id', '=', where.delegatorId);
  if (where.delegateId !== undefined) q = q.where('d.delegate_id', '=', where.delegateId);
  // Ids are time-ordered (uuidv7): newest created first.
  const rows = await q
    .orderBy('d.id', 'desc')
    .limit(where.limit ?? 500)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    delegator: { id: r.delegator_id, email: r.delegator_email },
    delegate: { id: r.delegate_id, email: r.delegate_email },
    starts_at: iso(Number(r.starts_at)),
    ends_at: iso(Number(r.ends_at)),
    reason: r.reason,
    state: delegationState({ starts_at: Number(r.starts_at), ends_at: Number(r.ends_at), revoked_at: r.revoked_at }, now),
    created_at: iso(Number(r.created_at)),
    created_by: r.created_by_email ?? r.created_by_id,
    revoked_at: r.revoked_at === null ? null : iso(Number(r.revoked_at)),
    revoked_by: r.revoked_by_id === null ? null : (r.revoked_by_email ?? r.revoked_by_id),
  }));
}

/** A delegation in force now: one the delegate may vote under. */
export interface ActiveDelegation {
  id: string;
  endsAt: number;
  delegator: { id: string; email: string; role: string };
}

/**
 * The delegations `delegateId` holds that are in force at `now`: started, not ended, not revoked, and
 * the delegator still enabled (the delegate is the caller, enabled or they would not be here). Only
 * direct delegations: what someone holds is never passed on (no chains).
 */
export async function activeDelegationsHeldBy(db: Kysely<DB>, delegateId: string, now: number): Promise<ActiveDelegation[]> {
  const rows = await db
    .selectFrom('delegations as d')
    .innerJoin('users as a', 'a.id', 'd.delegator_id')
    .innerJoin('users as b', 'b.id', 'd.delegate_id')
    .select(['d.id', 'd.ends_at', 'a.id as delegator_id', 'a.email', 'a.role'])
    .where('d.delegate_id', '=', delegateId)
    .where('d.revoked_at', 'is', null)
    .where('d.starts_at', '<=', now)
    .where('d.ends_at', '>', now)
    .where('a.disabled_at', 'is', null)
    .where('b.disabled_at', 'is', null)
    .orderBy('a.email')
    .orderBy('d.id')
    .execute();
  return rows.map((r) => ({ id: r.id, endsAt: Number(r.ends_at), delegator: { id: r.delegator_id, email: r.email, role: r.role } }));
}
