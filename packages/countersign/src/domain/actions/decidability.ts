import type { ActionsTable } from '../../db/types.js';
import { CsError } from '../../lib/errors.js';
import type { Principal } from '../identities/principal.js';
import { currentStage } from '../workflow/frozen.js';
import { assertReviewer, checkAuthority } from './review-action.js';

/** The columns that decide whether a person may vote on an action now. */
export type DecidableRow = Pick<
  ActionsTable,
  'id' | 'status' | 'workflow' | 'stage' | 'escalations' | 'agent_owner_id' | 'on_behalf_of' | 'expires_at'
>;

export interface Decidability {
  can_decide: boolean;
  /** Why not, in the words a vote would be refused with; null when the person may vote. */
  why_not: string | null;
}

/**
 * Whether `principal` could vote on the action right now, answered with the same rules a vote is checked
 * against (assertReviewer and checkAuthority of review-action.ts, the one-vote-per-person rule and the
 * deadline), never a copy of them: the inbox and the action page must never offer a vote the gateway
 * would refuse, nor hide one it would take.
 */
export function decidability(principal: Principal, row: DecidableRow, votedAlready: boolean, now: number): Decidability {
  if (row.status !== 'pending') return no(`it is ${row.status} already`);
  if (row.expires_at !== null && row.expires_at <= now) return no('its deadline has passed');
  const stage = currentStage(row);
  if (!stage) return no('it is not waiting for a review stage');
  try {
    assertReviewer(principal);
    checkAuthority(principal, row, stage);
  } catch (e) {
    if (e instanceof CsError) return no(e.message);
    throw e;
  }
  if (votedAlready) return no('you already voted on it; each person votes once');
  return { can_decide: true, why_not: null };
}

function no(why: string): Decidability {
  return { can_decide: false, why_not: why };
}
