import type { Kysely } from 'kysely';
import type { ActionsTable, DB, ReviewsTable } from '../../db/types.js';
import { approverLabel } from '../workflow/delegation.js';
import { approversInForce, describeApprovers } from '../workflow/eligibility.js';
import { parseFrozenWorkflow } from '../workflow/frozen.js';
import { selectActionRows } from './action-rows.js';
import type { ActionView } from './schemas.js';
import { parseStatus } from './status.js';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function toReviewView(r: ReviewsTable): ActionView['reviews'][number] {
  return {
    id: r.id,
    reviewer: { id: r.reviewer_id, email: r.reviewer_email },
    for: r.for_user_id === null ? null : { id: r.for_user_id, email: r.for_email ?? r.for_user_id },
    delegation_id: r.delegation_id,
    decision: r.decision as 'approve' | 'deny',
    reason: r.reason,
    edited: r.arguments !== null,
    channel: r.channel,
    stage: r.stage,
    at: new Date(r.created_at).toISOString(),
  };
}

/** Which stage the action is in, who voted there, who is still needed, and the deadlines. */
function workflowProgress(row: ActionsTable, reviews: readonly ReviewsTable[]): ActionView['workflow'] {
  if (row.workflow === null || row.stage === null) return null;
  const wf = parseFrozenWorkflow(row.workflow);
  const stage = wf.stages[row.stage];
  if (!stage) return null;
  const approvals = reviews.filter((r) => r.stage === stage.index && r.decision === 'approve').map(approverLabel);
  return {
    name: wf.name,
    stage: {
      index: stage.index,
      name: stage.name,
      of: wf.stages.length,
      quorum: stage.quorum,
      approvals,
      still_needed: row.status === 'pending' ? Math.max(0, stage.quorum - approvals.length) : 0,
      approvers: describeApprovers(approversInForce(stage, row.escalations)),
      escalations: row.escalations,
      timeout_at: stage.timeout_ms === null || row.stage_started_at === null ? null : iso(row.stage_started_at + stage.timeout_ms),
      step_up: stage.step_up === undefined ? null : { max_age_ms: stage.step_up.max_age_ms },
    },
    expires_at: iso(row.expires_at),
  };
}

export function toActionView(row: ActionsTable, reviews: readonly ReviewsTable[]): ActionView {
  const policy = JSON.parse(row.policy) as Partial<ActionView['policy']> & Pick<ActionView['policy'], 'rule' | 'effect'>;
  return {
    id: row.id,
    status: parseStatus(row.status),
    version: row.version,
    tool: row.tool,
    arguments: JSON.parse(row.arguments) as Record<string, unknown>,
    original_arguments: row.original_arguments === null ? null : (JSON.parse(row.original_arguments) as Record<string, unknown>),
    edited: row.original_arguments !== null,
    resource: row.resource,
    purpose: row.purpose,
    on_behalf_of: row.on_behalf_of,
    session_id: row.session_id,
    parent_id: row.parent_id,
    root_id: row.root_id,
    annotations: JSON.parse(row.annotations) as Record<string, unknown>,
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    agent: { id: row.agent_id, name: row.agent_name },
    policy: {
      rule: policy.rule,
      effect: policy.effect,
      workflow: policy.workflow ?? null,
      hash: policy.hash ?? null,
      reason: policy.reason ?? null,
      errors: policy.errors ?? [],
    },
    workflow: workflowProgress(row, reviews),
    grant_id: row.grant_id,
    batch_id: row.batch_id,
    receipt: row.receipt,
    execute_by: iso(row.execute_by),
    redeemed_at: iso(row.redeemed_at),
    created_at: iso(row.created_at) as string,
    updated_at: iso(row.updated_at) as string,
    expires_at: iso(row.expires_at),
    decided_at: iso(row.decided_at),
    decided_by:
      row.decided_by_type === null
        ? null
        : {
            type: row.decided_by_type as 'user' | 'agent' | 'policy' | 'grant' | 'system',
            id: row.decided_by_id,
            label: row.decided_by_label,
          },
    reason: row.reason,
    reviews: reviews.map(toReviewView),
    result:
      row.result_outcome === null
        ? null
        : {
            outcome: row.result_outcome as 'succeeded' | 'failed',
            output: row.result_output === null ? null : JSON.parse(row.result_output),
            at: iso(row.result_at) as string,
          },
  };
}

/** Loads an action with its reviews; `undefined` if there is no such action. */
export async function loadActionView(db: Kysely<DB>, id: string): Promise<ActionView | undefined> {
  const row = await selectActionRows(db).where('id', '=', id).executeTakeFirst();
  if (!row) return undefined;
  const reviews = await db.selectFrom('reviews').selectAll().where('action_id', '=', id).orderBy('created_at').orderBy('id').execute();
  return toActionView(row, reviews);
}

/** Ids per query of `loadActionViews`: well under SQLite's and PostgreSQL's limits on bound parameters. */
const VIEWS_PER_QUERY = 500;

/**
 * Many actions with their reviews, two queries per 500 ids (answering thousands of parked long-polls at
 * once, when they time out together or the server closes). An id with no action is absent from the map.
 */
export async function loadActionViews(db: Kysely<DB>, ids: readonly string[]): Promise<Map<string, ActionView>> {
  const views = new Map<string, ActionView>();
  const unique = [...new Set(ids)];
  for (let i = 0; i < unique.length; i += VIEWS_PER_QUERY) {
    const chunk = unique.slice(i, i + VIEWS_PER_QUERY);
    const rows = await selectActionRows(db).where('id', 'in', chunk).execute();
    const reviews = await db
      .selectFrom('reviews')
      .selectAll()
      .where('action_id', 'in', chunk)
      .orderBy('action_id')
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    const byAction = new Map<string, ReviewsTable[]>();
    for (const r of reviews) {
      const list = byAction.get(r.action_id);
      if (list) list.push(r);
      else byAction.set(r.action_id, [r]);
    }
    for (const row of rows) views.set(row.id, toActionView(row, byAction.get(row.id) ?? []));
  }
  return views;
}
