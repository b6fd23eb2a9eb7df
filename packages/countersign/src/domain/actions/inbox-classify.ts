import type { Deps } from '../../deps.js';
import type { UserPrincipal } from '../identities/principal.js';
import { decidability } from './decidability.js';
import { type DelegatedDecidability, delegationContext, withDelegation } from './delegated-decidability.js';
import type { PendingRow, Voters } from './inbox-rows.js';

export interface InboxClassifier {
  /** Whose votes the rows' `voted` and `cast` flags must be about (see inbox-rows.ts). */
  voters: Voters;
  /** Whether the caller may decide this pending action now; `workflow` is the text of its `workflow_key`. */
  classify(row: PendingRow, workflow: string | null): Promise<DelegatedDecidability>;
}

/**
 * Whether the caller may decide pending actions now, with decidability's and withDelegation's own rules,
 * asked once per class of actions those rules cannot tell apart instead of once per action. A class is
 * what the rules read: the frozen workflow (by its key: one key, one text), stage and escalations; whether the deadline has passed; the
 * agent's owner and the on-behalf-of person, but only as far as they are one of the voters (the caller,
 * or a delegator whose vote they hold: the rules compare them with nothing else); whether the caller
 * voted; which delegators' votes were cast. Actions of one class get the same answer, and the answer names
 * nothing of the action itself, so the first one's answer is the class's.
 *
 * Made for one request and dropped with it: no answer outlives a revocation or a vote.
 */
export async function inboxClassifier(deps: Deps, principal: UserPrincipal, now: number): Promise<InboxClassifier> {
  const ctx = await delegationContext(deps, principal, now);
  const delegators = ctx.held.map((h) => h.delegator.id);
  const voterIds = new Set([principal.id, ...delegators]);
  const voterEmails = new Set([principal.email, ...ctx.held.map((h) => h.delegator.email)].map((e) => e.toLowerCase()));
  // By workflow key, then by the rest of the class.
  const answers = new Map<string | null, Map<string, Promise<DelegatedDecidability>>>();
  const classify = (row: PendingRow, workflow: string | null): Promise<DelegatedDecidability> => {
    const owner = voterIds.has(row.agent_owner_id) ? row.agent_owner_id : '';
    const obo = row.on_behalf_of === null ? '' : voterEmails.has(row.on_behalf_of.toLowerCase()) ? `=${row.on_behalf_of}` : '*';
    const key = `${row.stage} ${row.escalations} ${row.past} ${row.voted} ${row.cast} ${owner} ${obo}`;
    let byWorkflow = answers.get(row.workflow_key);
    if (!byWorkflow) {
      byWorkflow = new Map();
      answers.set(row.workflow_key, byWorkflow);
    }
    let answer = byWorkflow.get(key);
    if (!answer) {
      const decidable = { ...row, workflow, status: 'pending' };
      const cast = new Set(delegators.filter((_, i) => row.cast[i] === '1'));
      answer = withDelegation(ctx, deps, decidable, decidability(principal, decidable, row.voted, now), row.voted, cast);
      byWorkflow.set(key, answer);
    }
    return answer;
  };
  return { voters: { id: principal.id, delegators }, classify };
}
