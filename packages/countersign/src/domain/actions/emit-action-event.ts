import type { Tx } from '../../db/committer.js';
import type { ActionsTable, ReviewsTable } from '../../db/types.js';
import { type ActionEventType, type Asked, type Deadlines, EVENT, type EventInput } from '../../events/types.js';
import { assertNever } from '../../lib/errors.js';
import { describeApprovers } from '../workflow/eligibility.js';
import { type FrozenApprovers, parseFrozenWorkflow } from '../workflow/frozen.js';
import type { ActionView } from './schemas.js';
import { type ActionStatus, parseStatus } from './status.js';
import { loadReviews } from './transition.js';
import { toActionView } from './view.js';

/** The deadlines an event carries, from the row (milliseconds; no dates to parse downstream). */
export function deadlinesOf(row: ActionsTable): Deadlines {
  let stageTimeout: number | null = null;
  if (row.status === 'pending' && row.workflow !== null && row.stage !== null && row.stage_started_at !== null) {
    const stage = parseFrozenWorkflow(row.workflow).stages[row.stage];
    if (stage?.timeout_ms != null) stageTimeout = row.stage_started_at + stage.timeout_ms;
  }
  return { expires_at_ms: row.expires_at, stage_timeout_at_ms: stageTimeout, execute_by_ms: row.execute_by };
}

/** Who is newly asked when a pending action enters its current stage (null without a workflow stage). */
export function askedForStage(row: ActionsTable, reason: 'review_started' | 'stage_started'): Asked | null {
  if (row.workflow === null || row.stage === null) return null;
  const stage = parseFrozenWorkflow(row.workflow).stages[row.stage];
  if (!stage) return null;
  return {
    reason,
    stage: { index: stage.index, name: stage.name },
    approvers: describeApprovers([stage.approvers]),
    level: null,
    round: null,
  };
}

/** Who an escalation level (or, past the last level, a reminder) asks. */
export function askedForEscalation(
  stage: { index: number; name: string },
  approvers: readonly FrozenApprovers[],
  level: number,
  round: number,
  reminder: boolean,
): Asked {
  return { reason: reminder ? 'reminder' : 'escalated', stage, approvers: describeApprovers(approvers), level, round };
}

/**
 * The event for an action, typed by its kind: events that ask people carry `asked` (who), progress
 * may (a new stage) or may not (a vote short of quorum), the rest carry the view and deadlines.
 */
export function actionEvent(type: ActionEventType, row: ActionsTable, view: ActionView, asked: Asked | null = null): EventInput {
  const scope = { actionId: row.id, agentId: row.agent_id, sessionId: row.session_id, rootId: row.root_id };
  const base = { action: view, deadlines: deadlinesOf(row) };
  switch (type) {
    case EVENT.approvalRequired:
    case EVENT.actionUpdated:
      return { ...scope, type, data: { ...base, asked } };
    case EVENT.actionEscalated:
    case EVENT.actionReminder:
      if (asked === null) throw new Error(`${type} needs the people it asks`);
      return { ...scope, type, data: { ...base, asked } };
    default:
      return { ...scope, type, data: base };
  }
}

/** Queues an event carrying the action's current view; returns the view. `known`: its reviews, when the caller has them. */
export async function emitActionEvent(
  tx: Tx,
  row: ActionsTable,
  type: ActionEventType,
  opts: { known?: readonly ReviewsTable[]; asked?: Asked | null } = {},
): Promise<ActionView> {
  const view = toActionView(row, opts.known ?? (await loadReviews(tx, row.id)));
  tx.emit(actionEvent(type, row, view, opts.asked ?? null));
  return view;
}

/** Queues the event for the status the row is now in (published after commit, via the outbox). */
export function emitStatus(tx: Tx, row: ActionsTable, known?: readonly ReviewsTable[]): Promise<ActionView> {
  return emitActionEvent(tx, row, eventForStatus(parseStatus(row.status)), known ? { known } : {});
}

/** The event published when an action enters a status. */
export function eventForStatus(status: ActionStatus): ActionEventType {
  switch (status) {
    case 'pending':
      return EVENT.approvalRequired;
    case 'approved':
      return EVENT.actionApproved;
    case 'denied':
      return EVENT.actionDenied;
    case 'expired':
      return EVENT.actionExpired;
    case 'cancelled':
      return EVENT.actionCancelled;
    case 'executed':
      return EVENT.actionExecuted;
    case 'failed':
      return EVENT.actionFailed;
    default:
      return assertNever(status, 'status');
  }
}
