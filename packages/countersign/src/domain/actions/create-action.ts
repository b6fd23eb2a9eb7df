import type { Tx } from '../../db/committer.js';
import type { ActionsTable } from '../../db/types.js';
import { EVENT } from '../../events/types.js';
import type { PolicyInput } from '../../policy/cel-env.js';
import type { PolicyDecision } from '../../policy/evaluate.js';
import type { TraceHeaders } from '../../telemetry/trace-context.js';
import { useMatchingGrant } from '../grants/use-grant.js';
import type { AgentPrincipal } from '../identities/principal.js';
import { type IssuedReceipt, issueReceipt, type Signer } from '../receipts/issue-receipt.js';
import { tallyCreated } from '../stats/tallies.js';
import type { FrozenWorkflow } from '../workflow/frozen.js';
import { nextApplicableStage, scheduleStageTimers } from '../workflow/stages.js';
import { actionEvent, askedForStage, eventForStatus } from './emit-action-event.js';
import { workflowKey } from './inbox-workflow-key.js';
import { insertAction } from './insert-action.js';
import type { ActionView, ProposeActionBody } from './schemas.js';
import { initialStatus } from './status.js';
import { toActionView } from './view.js';

/** A validated proposal with its policy decision, ready to be written. */
export interface Proposal {
  /** Chosen before the transaction, so an allow decision's receipt can be signed off the write path. */
  id: string;
  input: ProposeActionBody;
  argsText: string;
  onBehalfOf: string | null;
  idempotencyKey: string | null;
  requestHash: string | null;
  decision: PolicyDecision;
  policyHash: string;
  /** The workflow a review decision names, resolved from the policy in force. */
  workflow: FrozenWorkflow | null;
  policyInput: PolicyInput;
  batchId: string | null;
  /** Redeem the receipt in the creating transaction if the action is approved at once (POST /v1/actions?redeem=true). */
  redeem: boolean;
  signer: Signer;
  /** The receipt of an allow decision, signed before the transaction. */
  preissued?: IssuedReceipt;
  /** The proposing span's trace context (only when tracing is on), stored so later steps link to it. */
  trace?: TraceHeaders | undefined;
}

type Outcome = Pick<
  ActionsTable,
  | 'status'
  | 'decided_at'
  | 'decided_by_type'
  | 'decided_by_id'
  | 'decided_by_label'
  | 'reason'
  | 'workflow'
  | 'workflow_key'
  | 'stage'
  | 'stage_started_at'
  | 'expires_at'
  | 'grant_id'
>;

const UNDECIDED = { decided_at: null, decided_by_type: null, decided_by_id: null, decided_by_label: null, reason: null } as const;
const NO_REVIEW = { workflow: null, workflow_key: null, stage: null, stage_started_at: null, expires_at: null, grant_id: null } as const;

/** Inside the transaction: apply the decision (a matching grant may settle a review at once), insert, log, emit. */
export async function createAction(tx: Tx, agent: AgentPrincipal, p: Proposal, rootId: string | null = null): Promise<ActionView> {
  const id = p.id;
  const d = p.decision;
  let outcome: Outcome;
  const auditExtra: Record<string, unknown> = {};
  const byPolicy = (status: 'approved' | 'denied', reason: string | null) =>
    ({
      status,
      decided_at: tx.now,
      decided_by_type: 'policy',
      decided_by_id: null,
      decided_by_label: d.rule,
      reason,
      ...NO_REVIEW,
    }) as const;
  if (d.effect === 'allow') outcome = byPolicy('approved', null);
  else if (d.effect === 'deny') outcome = byPolicy('denied', d.reason ?? `Denied by policy rule "${d.rule}".`);
  else {
    const grant = await useMatchingGrant(tx, { actionId: id, agent, input: p.input, policyInput: p.policyInput, workflow: p.workflow });
    const wf = p.workflow as FrozenWorkflow;
    const entry = grant ? null : nextApplicableStage(wf, 0, () => p.policyInput);
    if (entry?.errors.length) auditExtra.stage_errors = entry.errors;
    if (entry?.skipped.length) auditExtra.skipped_stages = entry.skipped;
    if (grant) {
      outcome = {
        status: 'approved',
        decided_at: tx.now,
        decided_by_type: 'grant',
        decided_by_id: grant.id,
        decided_by_label: `standing grant by ${grant.created_by_email}`,
        reason: null,
        ...NO_REVIEW,
        grant_id: grant.id,
      };
    } else if (entry?.stage) {
      const frozen = JSON.stringify(wf);
      outcome = {
        status: initialStatus('review'),
        ...UNDECIDED,
        workflow: frozen,
        // The inbox groups pending actions by this short digest of the text (migration 026).
        workflow_key: workflowKey(frozen),
        stage: entry.stage.index,
        stage_started_at: tx.now,
        expires_at: tx.now + wf.expires_after_ms,
        grant_id: null,
      };
    } else {
      outcome = byPolicy('approved', null);
      auditExtra.note = `every stage of workflow "${wf.name}" was skipped`;
    }
  }
  const policy = {
    rule: d.rule,
    effect: d.effect,
    workflow: d.workflow,
    hash: p.policyHash,
    reason: d.reason,
    errors: d.errors,
    annotations_trusted: p.policyInput.annotations_trusted,
  };
  const row: ActionsTable = {
    id,
    agent_id: agent.id,
    agent_name: agent.name,
    agent_owner_id: agent.ownerId,
    tool: p.input.tool,
    arguments: p.argsText,
    original_arguments: null,
    resource: p.input.resource ?? null,
    purpose: p.input.purpose ?? null,
    on_behalf_of: p.onBehalfOf,
    session_id: p.input.session_id ?? null,
    parent_id: p.input.parent_id ?? null,
    root_id: rootId,
    annotations: JSON.stringify(p.input.annotations ?? {}),
    metadata: JSON.stringify(p.input.metadata ?? {}),
    version: 1,
    policy: JSON.stringify(policy),
    idempotency_key: p.idempotencyKey,
    request_hash: p.requestHash,
    created_at: tx.now,
    updated_at: tx.now,
    escalations: 0,
    batch_id: p.batchId,
    receipt: null,
    receipt_jti: null,
    execute_by: null,
    redeemed_at: null,
    result_outcome: null,
    result_output: null,
    result_at: null,
    traceparent: p.trace?.traceparent ?? null,
    tracestate: p.trace?.tracestate ?? null,
    ...outcome,
  };
  let issued: IssuedReceipt | undefined;
  if (row.status === 'approved') {
    const by = row.grant_id
      ? ({ type: 'grant', id: row.grant_id, label: row.decided_by_label } as const)
      : ({ type: 'policy', id: null, label: d.rule } as const);
    issued = p.preissued && !row.grant_id ? p.preissued : await issueReceipt(tx, p.signer, row, by, []);
    Object.assign(row, issued.fields);
    // The proposer is the executor and nobody else holds the receipt yet, so marking it used now is the same
    // compare-and-set redeemReceipt does, with no one to race. A receipt signed before a long queue may
    // already be past its window, and then it is not redeemed, as redeemReceipt would refuse it.
    if (p.redeem && row.execute_by !== null && row.execute_by > tx.now) row.redeemed_at = tx.now;
  }
  await insertAction(tx, row);
  tallyCreated(tx, row);
  if (row.stage !== null) {
    await scheduleStageTimers(tx, id, (p.workflow as FrozenWorkflow).stages[row.stage] as FrozenWorkflow['stages'][number], tx.now);
  }
  const view = toActionView(row, []);
  tx.audit({
    actor: { type: 'agent', id: agent.id },
    event: 'action.created',
    actionId: id,
    data: {
      tool: row.tool,
      arguments: p.input.arguments,
      resource: row.resource,
      on_behalf_of: row.on_behalf_of,
      session_id: row.session_id,
      parent_id: row.parent_id,
      ...(row.batch_id ? { batch_id: row.batch_id } : {}),
      policy,
      status: row.status,
      ...(row.stage !== null ? { stage: view.workflow?.stage.name } : {}),
      ...auditExtra,
      ...(p.requestHash ? { request_hash: p.requestHash } : {}),
    },
  });
  if (row.status !== 'pending') {
    tx.audit({
      actor: { type: 'system', id: null },
      event: row.status === 'approved' ? 'action.approved' : 'action.denied',
      actionId: id,
      data: row.grant_id ? { by: 'grant', grant_id: row.grant_id } : { by: 'policy', rule: d.rule, reason: row.reason },
    });
  }
  if (issued) tx.audit(issued.audit);
  if (row.redeemed_at !== null) {
    tx.audit({
      actor: { type: 'agent', id: agent.id },
      event: 'receipt.redeemed',
      actionId: id,
      data: { jti: row.receipt_jti, with_proposal: true },
    });
  }
  tx.emit(actionEvent(EVENT.actionCreated, row, view));
  tx.emit(actionEvent(eventForStatus(view.status), row, view, askedForStage(row, 'review_started')));
  if (row.redeemed_at !== null) tx.emit(actionEvent(EVENT.actionRedeemed, row, view));
  return row.redeemed_at === null ? view : { ...view, redeemed: true };
}
