import type { Tx } from '../../db/committer.js';
import type { ActionsTable, ReviewsTable } from '../../db/types.js';
import type { Deps } from '../../deps.js';
import { EVENT } from '../../events/types.js';
import { CsError } from '../../lib/errors.js';
import { isId, newId } from '../../lib/ids.js';
import { canApproveAlone } from '../grants/authority.js';
import { createGrant, validateGrantRequest } from '../grants/create-grant.js';
import { canReview, channelOf, describeCredential, type Principal, type UserPrincipal } from '../identities/principal.js';
import { issueReceipt } from '../receipts/issue-receipt.js';
import { tallyVote } from '../stats/tallies.js';
import { parseInput } from '../validate.js';
import { advanceAfterQuorum } from '../workflow/advance.js';
import { approverLabel, assertOneVote, auditFor, resolveVote, reviewFor } from '../workflow/delegation.js';
import { approversInForce, describeApprovers, isEligible, ownerMayVote } from '../workflow/eligibility.js';
import { type FrozenStage, type FrozenWorkflow, parseFrozenWorkflow } from '../workflow/frozen.js';
import { requireStepUp, stepUpContext } from '../workflow/step-up.js';
import { checkEditedArguments } from './edit-schema.js';
import { askedForStage, emitActionEvent, emitStatus } from './emit-action-event.js';
import { checkArguments, checkReason } from './limits.js';
import { type ActionView, ReviewBody } from './schemas.js';
import { applyProgress, applyTransition, assertBeforeDeadline, conflict, loadWithReviews } from './transition.js';

/**
 * A person votes on a pending action: approve, edit-and-approve, or deny.
 * Authority first (agents never review; viewers cannot; nobody reviews an
 * action that acts on their behalf, nor their own agent's unless the stage
 * names the owner), then one transaction: eligibility for the current stage,
 * one vote per person, the vote row, and either progress (quorum not yet met,
 * next stage) or the final compare-and-set, with every audit entry.
 */
export async function reviewAction(
  deps: Deps,
  principal: Principal,
  actionId: string,
  body: unknown,
  opts: {
    /**
     * Runs first inside the vote's transaction: a channel whose credential is good for one vote (an email
     * decision link) consumes it here, so the link is used up exactly when the vote commits, and a lost
     * race throws and leaves nothing written.
     */
    consume?: (tx: Tx) => Promise<void>;
  } = {},
): Promise<ActionView> {
  assertReviewer(principal);
  // Where the vote came from follows from how the voter authenticated, never from what a client says.
  const channel = channelOf(principal);
  const input = parseInput(ReviewBody, body);
  const reason = checkReason(deps.config, input.reason);
  const approve = input.decision === 'approve';
  if (!approve && (input.arguments !== undefined || input.grant !== undefined)) {
    const field = input.arguments !== undefined ? 'arguments' : 'grant';
    throw new CsError('invalid_request', `${field} can only be given when approving`, {
      issues: [{ path: field, message: 'not allowed with decision "deny"' }],
    });
  }
  if (input.grant) validateGrantRequest(deps.config, input.grant);
  const editedText = input.arguments === undefined ? null : checkArguments(deps.config, 'arguments', input.arguments);
  // Outside the write transaction (validating against an agent-declared schema costs what the schema costs);
  // the metadata and proposed arguments it reads never change after the action is created.
  if (input.arguments !== undefined && editedText !== null && isId(actionId)) {
    const stored = await deps.db.read.selectFrom('actions').select(['arguments', 'metadata']).where('id', '=', actionId).executeTakeFirst();
    if (stored && stored.arguments !== editedText) checkEditedArguments(stored.metadata, input.arguments);
  }

  const view = await deps.committer.run(
    async (tx) => {
      if (opts.consume) await opts.consume(tx);
      // The action locked, with every vote cast on it so far (one statement where the database allows).
      const { row, reviews: votes } = await loadWithReviews(tx, actionId);
      if (row.status !== 'pending') throw conflict(row, approve ? 'approve' : 'deny');
      assertBeforeDeadline(tx, row, approve ? 'approve' : 'deny');
      const wf = parseFrozenWorkflow(row.workflow ?? 'null') as FrozenWorkflow | null;
      const stage = wf?.stages[row.stage ?? -1];
      if (!wf || !stage) throw new CsError('internal', `action ${row.id} is pending without a workflow stage`);
      // Whose vote this is (own, or `for` a delegator) and the authority for it: workflow/delegation.ts.
      const cast = await resolveVote(tx.db, tx.now, principal, row, stage, input.for, () => checkAuthority(principal, row, stage));
      // Step-up is the voter's own sign-in, whoever the vote is for.
      const stepUp = requireStepUp(principal, stage, input.decision, stepUpContext(deps, tx.now, `/actions/${row.id}`));
      if (input.grant) {
        // Refused before the vote is recorded: a grant is never broader than what this person could approve alone.
        const why = canApproveAlone(wf, principal, { agentOwnerId: row.agent_owner_id, onBehalfOf: row.on_behalf_of });
        if (why !== null)
          throw new CsError('forbidden', `you cannot grant similar actions: ${why}; a grant is never broader than your own authority`);
      }
      assertOneVote(votes, principal, cast, row);
      const edited = approve && editedText !== null && editedText !== row.arguments;
      if (edited && votes.some((v) => v.decision === 'approve')) {
        throw new CsError(
          'conflict',
          'the arguments cannot be edited once someone has approved them; deny with a reason so the agent proposes again',
        );
      }
      const vote: ReviewsTable = {
        id: newId(),
        action_id: row.id,
        reviewer_id: principal.id,
        reviewer_email: principal.email,
        decision: input.decision,
        reason,
        arguments: edited ? editedText : null,
        channel,
        created_at: tx.now,
        stage: stage.index,
        ...reviewFor(cast),
      };
      // Written with the compare-and-set below (transition.ts): one statement where the database allows.
      tallyVote(tx, vote);
      // Every review of the action, this one last (time-ordered ids): the view needs no second read.
      const reviews = [...votes, vote];
      const actor = { type: 'user' as const, id: principal.id };
      tx.audit({
        actor,
        event: 'action.reviewed',
        actionId: row.id,
        data: {
          reviewer: principal.email,
          ...auditFor(cast),
          decision: input.decision,
          reason,
          channel,
          auth: describeCredential(principal.credential),
          ...(stepUp ? { step_up: stepUp } : {}),
          edited,
          stage: stage.name,
        },
      });
      if (edited) {
        tx.audit({
          actor,
          event: 'action.edited',
          actionId: row.id,
          data: { old_arguments: JSON.parse(row.arguments), new_arguments: input.arguments },
        });
      }
      const decidedBy = {
        decided_at: tx.now,
        decided_by_type: 'user',
        decided_by_id: principal.id,
        decided_by_label: principal.email,
        reason,
      };
      if (!approve) {
        // Any eligible deny ends the review: denial is terminal.
        const denied = await applyTransition(tx, row, 'deny', decidedBy, { vote });
        tx.audit({ actor, event: 'action.denied', actionId: row.id, data: { by: principal.email, reason, version: denied.version } });
        return emitStatus(tx, denied, reviews);
      }
      const editChanges = edited ? { arguments: editedText as string, original_arguments: row.arguments } : {};
      const approvals = votes.filter((v) => v.stage === stage.index && v.decision === 'approve').length + 1;
      if (approvals < stage.quorum) {
        const progressed = await applyProgress(tx, row, 'approve', editChanges, { vote });
        return emitActionEvent(tx, progressed, EVENT.actionUpdated, { known: reviews });
      }
      // A one-person, one-stage review needs no separate record of its stage completing.
      if (wf.stages.length > 1 || stage.quorum > 1) {
        tx.audit({ actor, event: 'action.stage_approved', actionId: row.id, data: { stage: stage.name, approvals } });
      }
      const next = await advanceAfterQuorum(tx, { ...row, ...editChanges }, wf, stage);
      if (next) {
        const progressed = await applyProgress(tx, row, 'approve', { ...editChanges, ...next }, { vote });
        return emitActionEvent(tx, progressed, EVENT.actionUpdated, { known: reviews, asked: askedForStage(progressed, 'stage_started') });
      }
      const approvers = [...new Set(reviews.filter((v) => v.decision === 'approve').map(approverLabel))];
      const by = { type: 'user', id: principal.id, label: principal.email } as const;
      const issued = await issueReceipt(tx, deps, { ...row, ...editChanges }, by, approvers);
      const approved = await applyTransition(tx, row, 'approve', { ...editChanges, ...decidedBy, ...issued.fields }, { vote });
      tx.audit({ actor, event: 'action.approved', actionId: row.id, data: { by: principal.email, reason, version: approved.version } });
      tx.audit(issued.audit);
      if (input.grant) await createGrant(tx, deps.config, { voter: principal, row: approved, wf, spec: input.grant });
      return emitStatus(tx, approved, reviews);
    },
    { urgent: !approve },
  );
  deps.metrics.transitions.inc({ status: view.status });
  return view;
}

/** Who may review at all, whatever the action: people with a reviewing role. Shared with the batch review. */
export function assertReviewer(principal: Principal): asserts principal is UserPrincipal {
  if (principal.type === 'agent') throw new CsError('forbidden', 'agent keys can never review actions');
  if (!canReview(principal)) throw new CsError('forbidden', 'viewers cannot review actions; reviewers and admins can');
}

/** Self-approval and eligibility for the stage the action is in now. Shared with the batch review's up-front check. */
export function checkAuthority(
  principal: UserPrincipal,
  row: Pick<ActionsTable, 'on_behalf_of' | 'agent_owner_id' | 'escalations'>,
  stage: FrozenStage,
): void {
  if (row.on_behalf_of !== null && row.on_behalf_of === principal.email) {
    throw new CsError('self_approval', 'this action acts on your behalf, so you cannot review it');
  }
  if (row.agent_owner_id === principal.id && !ownerMayVote(stage, row.escalations)) {
    throw new CsError('self_approval', 'you own the agent that proposed this action, so you cannot review it');
  }
  if (!isEligible(stage, row.escalations, principal, row.agent_owner_id)) {
    const who = describeApprovers(approversInForce(stage, row.escalations));
    const names = [
      ...who.users,
      ...who.groups.map((g) => `group ${g}`),
      ...who.roles.map((r) => `role ${r}`),
      ...(who.owner ? ["the agent's owner"] : []),
    ];
    throw new CsError('forbidden', `you are not an approver of stage "${stage.name}"; it needs ${names.join(', ')}`);
  }
}
