import type { Deps } from '../../deps.js';
import { CsError } from '../../lib/errors.js';
import { type ActiveDelegation, activeDelegationsHeldBy } from '../identities/delegations/read-delegations.js';
import { groupsOf } from '../identities/memberships.js';
import type { UserPrincipal } from '../identities/principal.js';
import { type GroupsOf, usableDelegations } from '../workflow/delegation.js';
import { currentStage } from '../workflow/frozen.js';
import type { Decidability, DecidableRow } from './decidability.js';
import { assertReviewer } from './review-action.js';

/** Someone whose vote the caller may cast on an action now, through a delegation in force. */
export interface VoteFor {
  email: string;
  delegation_id: string;
}

export type DelegatedDecidability = Decidability & { may_vote_for: VoteFor[] };

/**
 * What one request knows about the caller's delegations: those they hold now. Read once per request and
 * never kept beyond it, so a revoked delegation stops counting at the next request.
 */
export interface DelegationContext {
  principal: UserPrincipal;
  now: number;
  /** Empty when the caller holds none, or has no reviewing role of their own (a delegate needs one). */
  held: ActiveDelegation[];
  groups: GroupsOf;
}

export async function delegationContext(deps: Deps, principal: UserPrincipal, now: number): Promise<DelegationContext> {
  const db = deps.db.read;
  const held = reviews(principal) ? await activeDelegationsHeldBy(db, principal.id, now) : [];
  const groupCache = new Map<string, Promise<string[]>>();
  const groups = (id: string) => {
    let g = groupCache.get(id);
    if (!g) {
      g = groupsOf(db, id);
      groupCache.set(id, g);
    }
    return g;
  };
  return { principal, now, held, groups };
}

/**
 * Adds what the delegations a person holds open to `decidability`'s answer for one action: the rules are
 * delegation.ts's own (usableDelegations, as a vote with `for` is checked), plus one person, one vote (a
 * delegator whose vote was already cast on the action, by them or a delegate, is not offered: `cast`
 * holds their ids). An action the caller may decide only for someone becomes decidable; `why_not` keeps
 * why the caller may not vote as themselves (null when they may).
 */
export async function withDelegation(
  ctx: DelegationContext,
  deps: Deps,
  row: DecidableRow,
  d: Decidability,
  voted: boolean,
  cast: ReadonlySet<string>,
): Promise<DelegatedDecidability> {
  const stage = ctx.held.length === 0 || voted ? undefined : openStage(row, ctx.now);
  if (!stage) return { ...d, may_vote_for: [] };
  const open = ctx.held.filter((h) => !cast.has(h.delegator.id));
  const usable: ActiveDelegation[] = await usableDelegations(deps.db.read, ctx.principal, open, row, stage, ctx.groups);
  const may_vote_for = usable.map((u) => ({ email: u.delegator.email, delegation_id: u.id }));
  return { can_decide: d.can_decide || may_vote_for.length > 0, why_not: d.why_not, may_vote_for };
}

/** withDelegation for a few actions (the action page): reads the votes cast on these actions only. */
export async function withDelegations(
  deps: Deps,
  principal: UserPrincipal,
  rows: readonly { row: DecidableRow; d: Decidability; voted: boolean }[],
  now: number,
): Promise<DelegatedDecidability[]> {
  const ctx = await delegationContext(deps, principal, now);
  const people = ctx.held.map((h) => h.delegator.id);
  const ids = rows.map((r) => r.row.id);
  const cast = new Map<string, Set<string>>();
  if (people.length > 0 && ids.length > 0) {
    const votes = await deps.db.read
      .selectFrom('reviews')
      .select(['action_id', 'reviewer_id', 'for_user_id'])
      .where('action_id', 'in', ids)
      .where((eb) => eb.or([eb('reviewer_id', 'in', people), eb('for_user_id', 'in', people)]))
      .execute();
    for (const v of votes) {
      const set = cast.get(v.action_id) ?? new Set<string>();
      set.add(v.for_user_id ?? v.reviewer_id);
      cast.set(v.action_id, set);
    }
  }
  const out: DelegatedDecidability[] = [];
  for (const { row, d, voted } of rows) out.push(await withDelegation(ctx, deps, row, d, voted, cast.get(row.id) ?? new Set()));
  return out;
}

/** Whether the caller has a reviewing role of their own (a delegate needs one; viewers never vote). */
function reviews(principal: UserPrincipal): boolean {
  try {
    assertReviewer(principal);
    return true;
  } catch (e) {
    if (e instanceof CsError) return false;
    throw e;
  }
}

/** The stage a vote would go to now, or undefined when the action takes no vote (decided, past its deadline). */
function openStage(row: DecidableRow, now: number) {
  if (row.status !== 'pending') return undefined;
  if (row.expires_at !== null && row.expires_at <= now) return undefined;
  return currentStage(row);
}
