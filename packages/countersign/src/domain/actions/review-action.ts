import type { Deps } from '../../deps.js';
import { CsError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { canReview, type Principal } from '../identities/principal.js';
import { parseInput } from '../validate.js';
import { checkArguments, checkReason } from './limits.js';
import { type ActionView, ReviewBody } from './schemas.js';
import { applyTransition, emitStatus, loadForUpdate } from './transition.js';

export type ReviewChannel = 'api' | 'cli' | 'web' | 'slack' | 'teams' | 'email';

/**
 * A person approves, edits-and-approves, or denies a pending action.
 * Authority first (agents never review; viewers cannot; nobody reviews an
 * action they own or that acts on their behalf), then one transaction:
 * compare-and-set the status, record the vote, append the audit entries.
 */
export async function reviewAction(
  deps: Deps,
  principal: Principal,
  actionId: string,
  body: unknown,
  channel: ReviewChannel = 'api',
): Promise<ActionView> {
  if (principal.type === 'agent') throw new CsError('forbidden', 'agent keys can never review actions');
  if (!canReview(principal)) throw new CsError('forbidden', 'viewers cannot review actions; reviewers and admins can');
  const input = parseInput(ReviewBody, body);
  const reason = checkReason(deps.config, input.reason);
  if (input.decision === 'deny' && input.arguments !== undefined) {
    throw new CsError('invalid_request', 'arguments can only be given when approving (edit and approve)', {
      issues: [{ path: 'arguments', message: 'not allowed with decision "deny"' }],
    });
  }
  const editedText = input.arguments === undefined ? null : checkArguments(deps.config, 'arguments', input.arguments);

  const view = await deps.committer.run(async (tx) => {
    const row = await loadForUpdate(tx, actionId);
    if (row.agent_owner_id === principal.id) {
      throw new CsError('self_approval', 'you own the agent that proposed this action, so you cannot review it');
    }
    if (row.on_behalf_of !== null && row.on_behalf_of === principal.email) {
      throw new CsError('self_approval', 'this action acts on your behalf, so you cannot review it');
    }
    const approve = input.decision === 'approve';
    const edited = approve && editedText !== null && editedText !== row.arguments;
    const updated = await applyTransition(tx, row, approve ? 'approve' : 'deny', {
      decided_at: tx.now,
      decided_by_type: 'user',
      decided_by_id: principal.id,
      decided_by_label: principal.email,
      reason,
      ...(edited ? { arguments: editedText as string, original_arguments: row.arguments } : {}),
    });
    await tx.db
      .insertInto('reviews')
      .values({
        id: newId(),
        action_id: row.id,
        reviewer_id: principal.id,
        reviewer_email: principal.email,
        decision: input.decision,
        reason,
        arguments: edited ? editedText : null,
        channel,
        created_at: tx.now,
      })
      .execute();
    const actor = { type: 'user' as const, id: principal.id };
    tx.audit({
      actor,
      event: 'action.reviewed',
      actionId: row.id,
      data: { reviewer: principal.email, decision: input.decision, reason, channel, edited },
    });
    if (edited) {
      tx.audit({
        actor,
        event: 'action.edited',
        actionId: row.id,
        data: { old_arguments: JSON.parse(row.arguments), new_arguments: input.arguments },
      });
    }
    tx.audit({
      actor,
      event: approve ? 'action.approved' : 'action.denied',
      actionId: row.id,
      data: { by: principal.email, reason, version: updated.version },
    });
    return emitStatus(tx, updated);
  });
  deps.metrics.transitions.inc({ status: input.decision === 'approve' ? 'approved' : 'denied' });
  return view;
}
