import type { Deps } from '../../deps.js';
import { CsError } from '../../lib/errors.js';
import { type ActiveDelegation, activeDelegationsHeldBy } from '../identities/delegations/read-delegations.js';
import { groupsOf } from '../identities/memberships.js';
import type { UserPrincipal } from '../identities/principal.js';
import { usableDelegations } from '../workflow/delegation.js';
import { parseFrozenWorkflow } from '../workflow/frozen.js';
import type { Decidability, DecidableRow } from './decidability.js';
import { assertReviewer } from './review-action.js';

/** Someone whose vote the caller may cast on an action now, through a delegation in force. */
export interface VoteFor {
  email: string;
  delegation_id: string;
}

export type DelegatedDecidability = Decidability & { may_vote_for: VoteFor[] };

/**
 * Adds what the delegations a person holds open to `decidability`'s answer, for many actions at once:
 * the rules are delegation.ts's own (usableDelegations, as a vote with `for` is checked), plus one person,
 * one vote (a delegator whose vote was already cast on the action, by them or a delegate, is not offered).
 * An action the caller may decide only for someone becomes decidable; `why_not` keeps why the caller may
 * not vote as themselves (null when they may).
 */
export async function withDelegations(
  deps: Deps,
  principal: UserPrincipal,
  rows: readonly { row: DecidableRow; d: Decidability; voted: boolean }[],
  now: number,
): Promise<DelegatedDecidability[]> {
  const db = deps.db.read;
  const held = await activeDelegationsHeldBy(db, principal.id, now);
  const none = rows.map(({ d }) => ({ ...d, may_vote_for: [] }));
  if (held.length === 0 || !reviews(principal)) return none;
  const people = held.map((h) => h.delegator.id);
  const ids = rows.map((r) => r.row.id);
  const cast = new Set<string>();
  if (ids.length > 0) {
    const votes = await db
      .selectFrom('reviews')
      .select(['action_id', 'reviewer_id', 'for_user_id'])
      .where('action_id', 'in', ids)
      .where((eb) => eb.or([eb('reviewer_id', 'in', people), eb('for_user_id', 'in', people)]))
      .execute();
    for (const v of votes) cast.add(`${v.action_id} ${v.for_user_id ?? v.reviewer_id}`);
  }
  const groupCache = new Map<string, Promise<string[]>>();
  const groups = (id: string) => {
    let g = groupCache.get(id);
    if (!g) {
      g = groupsOf(db, id);
      groupCache.set(id, g);
    }
    return g;
  };
  const out: DelegatedDecidability[] = [];
  for (const { row, d, voted } of rows) {
    const stage = openStage(row, now);
    if (!stage || voted) {
      out.push({ ...d, may_vote_for: [] });
      continue;
    }
    const open = held.filter((h) => !cast.has(`${row.id} ${h.delegator.id}`));
    const usable: ActiveDelegation[] = await usableDelegations(db, principal, open, row, stage, groups);
    const may_vote_for = usable.map((u) => ({ email: u.delegator.email, delegation_id: u.id }));
    out.push({ can_decide: d.can_decide || may_vote_for.length > 0, why_not: d.why_not, may_vote_for });
  }
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
  return row.workflow === null ? undefined : parseFrozenWorkflow(row.workflow).stages[row.stage ?? -1];
}
