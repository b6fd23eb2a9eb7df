import type { Kysely } from 'kysely';
import type { ActionsTable, DB, ReviewsTable } from '../../db/types.js';
import { CsError, isCsError } from '../../lib/errors.js';
import { type ActiveDelegation, activeDelegationsHeldBy, delegationState } from '../identities/delegations/read-delegations.js';
import { groupsOf } from '../identities/memberships.js';
import type { Role, UserPrincipal } from '../identities/principal.js';
import { isEligible, ownerMayVote, type Voter } from './eligibility.js';
import type { FrozenStage } from './frozen.js';

/**
 * Whose vote a review is: the voter's own, or (with `for`) the vote of a person who delegated it to
 * them. The rule is one person, one vote: a review counts as the vote of exactly one person (its `for`
 * person, else its reviewer), each person's vote is cast at most once per action (by them or by one
 * delegate), and each person casts at most one review per action (for themselves or for someone).
 *
 * A vote for Y by X needs a delegation Y→X in force now (started, not ended, not revoked, both enabled);
 * only direct delegations count, and Y's eligibility is judged on Y's own role, groups and email, so a
 * delegated authority is never passed on (X for Y for Z cannot happen). Both people's limits hold: X never
 * votes on an action on X's behalf or proposed by X's agent; nobody votes for Y on an action on Y's behalf,
 * nor on Y's agent's unless the stage names the owner.
 */
export interface CastAs {
  /** The person whose vote this is. */
  id: string;
  email: string;
  /** The delegation used; null when voting as oneself. */
  delegation: { id: string; endsAt: number } | null;
}

type ActionRow = Pick<ActionsTable, 'on_behalf_of' | 'agent_owner_id' | 'escalations'>;

/**
 * Resolves `for` and checks authority for the stage the action is in now. `checkOwn` is the voter's own
 * check (review-action.ts `checkAuthority`); when it refuses a voter that an active delegation would let
 * vote, the refusal says so rather than choosing for them.
 */
export async function resolveVote(
  db: Kysely<DB>,
  now: number,
  principal: UserPrincipal,
  row: ActionRow,
  stage: FrozenStage,
  forRef: string | undefined,
  checkOwn: () => void,
): Promise<CastAs> {
  const ref = forRef?.trim().toLowerCase();
  if (ref === undefined || ref === principal.email.toLowerCase() || ref === principal.id) {
    try {
      checkOwn();
    } catch (e) {
      // Only the "not an approver" refusal gets the hint; a refusal for any other reason stands as it is.
      if (isCsError(e) && e.code === 'forbidden' && !isEligible(stage, row.escalations, principal, row.agent_owner_id)) {
        throw await withDelegationHint(db, now, principal, row, stage, e);
      }
      throw e;
    }
    return { id: principal.id, email: principal.email, delegation: null };
  }
  const held = await activeDelegationsHeldBy(db, principal.id, now);
  const d = held.find((h) => h.delegator.email.toLowerCase() === ref || h.delegator.id === ref);
  if (!d) throw await noDelegation(db, now, principal, forRef as string);
  const refusal = await delegatedRefusal(db, principal, d, row, stage);
  if (refusal) throw refusal;
  return { id: d.delegator.id, email: d.delegator.email, delegation: { id: d.id, endsAt: d.endsAt } };
}

/** How a delegator's groups are read: from the database, or a cache over many actions (the inbox). */
export type GroupsOf = (userId: string) => Promise<string[]>;

/**
 * The delegations among `held` (in force, see activeDelegationsHeldBy) under which `principal` may vote
 * on this action's current stage: the same rules a vote with `for` is checked against.
 */
export async function usableDelegations(
  db: Kysely<DB>,
  principal: UserPrincipal,
  held: readonly ActiveDelegation[],
  row: ActionRow,
  stage: FrozenStage,
  groups: GroupsOf = (id) => groupsOf(db, id),
): Promise<ActiveDelegation[]> {
  const usable: ActiveDelegation[] = [];
  for (const d of held) if ((await delegatedRefusal(db, principal, d, row, stage, groups)) === null) usable.push(d);
  return usable;
}

/** Why X may not vote for Y (the delegator of `d`) on this action now, or null. */
async function delegatedRefusal(
  db: Kysely<DB>,
  principal: UserPrincipal,
  d: ActiveDelegation,
  row: ActionRow,
  stage: FrozenStage,
  groups: GroupsOf = (id) => groupsOf(db, id),
): Promise<CsError | null> {
  const y = d.delegator;
  const onBehalf = row.on_behalf_of?.toLowerCase() ?? null;
  if (onBehalf !== null && onBehalf === principal.email.toLowerCase()) {
    return new CsError('self_approval', 'this action acts on your behalf, so you cannot review it, not even for someone else');
  }
  if (row.agent_owner_id === principal.id) {
    return new CsError('self_approval', 'you own the agent that proposed this action, so you cannot vote on it for someone else');
  }
  if (onBehalf !== null && onBehalf === y.email.toLowerCase()) {
    return new CsError('self_approval', `this action acts on behalf of ${y.email}, so no vote can be cast for them`);
  }
  if (row.agent_owner_id === y.id && !ownerMayVote(stage, row.escalations)) {
    return new CsError('self_approval', `${y.email} owns the agent that proposed this action, so no vote can be cast for them`);
  }
  const voter: Voter = { id: y.id, email: y.email, role: y.role as Role, groups: await groups(y.id) };
  if (!isEligible(stage, row.escalations, voter, row.agent_owner_id)) {
    return new CsError('forbidden', `${y.email} is not an approver of stage "${stage.name}", so a vote for them does not count here`);
  }
  return null;
}

async function withDelegationHint(
  db: Kysely<DB>,
  now: number,
  principal: UserPrincipal,
  row: ActionRow,
  stage: FrozenStage,
  refused: CsError,
): Promise<CsError> {
  const held = await activeDelegationsHeldBy(db, principal.id, now);
  const usable = await usableDelegations(db, principal, held, row, stage);
  const first = usable[0];
  if (!first) return refused;
  const names = usable.map((d) => `${d.delegator.email} (delegation until ${new Date(d.endsAt).toISOString()})`).join(', ');
  return new CsError('forbidden', `${refused.message}; you may vote for ${names} with for: "${first.delegator.email}"`, {
    details: { may_vote_for: usable.map((d) => ({ email: d.delegator.email, delegation_id: d.id })) },
  });
}

/** The refusal of a `for` naming someone whose vote the caller does not hold now, saying why where it can. */
async function noDelegation(db: Kysely<DB>, now: number, principal: UserPrincipal, forRef: string): Promise<CsError> {
  const ref = forRef.trim().toLowerCase();
  const last = await db
    .selectFrom('delegations as d')
    .innerJoin('users as a', 'a.id', 'd.delegator_id')
    .select(['d.id', 'd.starts_at', 'd.ends_at', 'd.revoked_at', 'a.email', 'a.disabled_at'])
    .where('d.delegate_id', '=', principal.id)
    .where((eb) => eb.or([eb('a.email', '=', ref), eb('a.id', '=', ref)]))
    .orderBy('d.id', 'desc')
    .executeTakeFirst();
  if (!last) return new CsError('forbidden', `you hold no delegation from ${forRef}, so you cannot vote for them`);
  const state = delegationState({ starts_at: Number(last.starts_at), ends_at: Number(last.ends_at), revoked_at: last.revoked_at }, now);
  const why =
    state === 'active'
      ? `${last.email} is disabled`
      : state === 'upcoming'
        ? `it starts at ${new Date(Number(last.starts_at)).toISOString()}`
        : `it has ${state === 'revoked' ? 'been revoked' : 'ended'}`;
  return new CsError('forbidden', `your delegation from ${last.email} is not in force (${why}), so you cannot vote for them`, {
    details: { delegation_id: last.id, state },
  });
}

/** One person, one vote (see above): refuses a second review by the voter, and a second use of the same person's vote. */
export function assertOneVote(
  votes: readonly ReviewsTable[],
  principal: UserPrincipal,
  cast: CastAs,
  at: { status: string; version: number },
): void {
  const details = { status: at.status, version: at.version };
  const mine = votes.find((v) => v.reviewer_id === principal.id);
  if (mine) {
    const how = mine.for_email === null ? '' : ` (for ${mine.for_email})`;
    throw new CsError('conflict', `you already voted on this action${how}; each person votes once`, { details });
  }
  const used = votes.find((v) => (v.for_user_id ?? v.reviewer_id) === cast.id);
  if (used) {
    const whose = cast.delegation ? `${cast.email}'s vote` : 'your vote';
    const by = used.reviewer_id === cast.id ? (cast.delegation ? 'by them' : 'by you') : `by ${used.reviewer_email} for ${used.for_email}`;
    throw new CsError('conflict', `${whose} on this action was already cast ${by}; each person votes once`, { details });
  }
}

/** The review row's delegation columns. */
export function reviewFor(cast: CastAs): Pick<ReviewsTable, 'for_user_id' | 'for_email' | 'delegation_id'> {
  return cast.delegation
    ? { for_user_id: cast.id, for_email: cast.email, delegation_id: cast.delegation.id }
    : { for_user_id: null, for_email: null, delegation_id: null };
}

/** What the vote's audit entry adds: "X for Y". */
export function auditFor(cast: CastAs): { for?: string; delegation_id?: string } {
  return cast.delegation ? { for: cast.email, delegation_id: cast.delegation.id } : {};
}

/** How an approver is named in receipts and progress: the voter, and whom they voted for. */
export function approverLabel(r: Pick<ReviewsTable, 'reviewer_email' | 'for_email'>): string {
  return r.for_email === null ? r.reviewer_email : `${r.reviewer_email} for ${r.for_email}`;
}
