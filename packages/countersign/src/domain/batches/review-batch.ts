import type { Deps } from '../../deps.js';
import { CsError, isCsError } from '../../lib/errors.js';
import { isId } from '../../lib/ids.js';
import { workflowText } from '../actions/action-rows.js';
import { assertReviewer, checkAuthority, reviewAction } from '../actions/review-action.js';
import type { Principal, UserPrincipal } from '../identities/principal.js';
import { parseInput } from '../validate.js';
import { resolveVote } from '../workflow/delegation.js';
import { type FrozenWorkflow, parseFrozenWorkflow } from '../workflow/frozen.js';
import { requireStepUp, type StepUpContext, stepUpContext } from '../workflow/step-up.js';
import { BatchReviewBody, type BatchReviewResult } from './schemas.js';

interface BatchRow {
  id: string;
  status: string;
  workflow: string | null;
  stage: number | null;
  escalations: number;
  agent_owner_id: string;
  on_behalf_of: string | null;
}

/**
 * "Decide all": one vote per pending action of the batch, each its own
 * transaction with every rule of a single review (eligibility, self-approval,
 * quorum). One action refusing the vote does not stop the others.
 *
 * Who the caller is gets the same answer as a single review: a caller who may
 * not review one of the targeted pending actions (an agent key, a viewer, the
 * agent's owner where the stage does not name the owner, the person the action
 * acts for, someone the stage does not name) is refused with that review's 403
 * before any vote is cast, so nothing is written and the refusal is never hidden
 * inside a 200. With `for`, every vote is cast for that person under their delegation, each judged as a
 * single review with the same `for` (workflow/delegation.ts). Per-item results are left for what only the vote itself can
 * tell: an action decided meanwhile, a second vote, a deadline passed.
 */
export async function reviewBatch(deps: Deps, principal: Principal, batchId: string, body: unknown): Promise<BatchReviewResult> {
  assertReviewer(principal);
  const input = parseInput(BatchReviewBody, body);
  if (!isId(batchId)) throw new CsError('not_found', `no batch with id ${batchId}`);
  const rows: BatchRow[] = await deps.db.read
    .selectFrom('actions')
    .select(['id', 'status', 'stage', 'escalations', 'agent_owner_id', 'on_behalf_of', workflowText()])
    .where('batch_id', '=', batchId)
    .orderBy('id')
    .execute();
  if (rows.length === 0) throw new CsError('not_found', `no batch with id ${batchId}`);
  const byId = new Map(rows.map((r) => [r.id, r]));
  const unknown = input.ids?.filter((id) => !byId.has(id)) ?? [];
  if (unknown.length > 0) throw new CsError('invalid_request', `not in batch ${batchId}: ${unknown.join(', ')}`);
  const targets = input.ids ?? rows.filter((r) => r.status === 'pending').map((r) => r.id);
  await refuseWithoutAuthority(
    deps,
    principal,
    targets.flatMap((id) => byId.get(id) ?? []),
    input.for,
    input.decision,
    stepUpContext(deps, deps.clock.now(), `/batches/${batchId}`),
  );
  const vote = { decision: input.decision, ...(input.reason ? { reason: input.reason } : {}), ...(input.for ? { for: input.for } : {}) };
  // Concurrent, so the votes share a group commit; each still succeeds or fails alone.
  const results = await Promise.all(
    targets.map(async (id): Promise<BatchReviewResult['results'][number]> => {
      try {
        return { id, ok: true, action: await reviewAction(deps, principal, id, vote) };
      } catch (e) {
        if (!isCsError(e)) throw e;
        return { id, ok: false, error: { code: e.code, message: e.message } };
      }
    }),
  );
  return { batch_id: batchId, results };
}

/**
 * The single review's authority check (and, when approving, its step-up check) on every pending target, read before any vote. A decided action
 * is skipped here: a single review answers 409 for it before asking who you are, and so does its item.
 * The vote re-checks under the row lock, so a stage that moved on in between is still decided right.
 */
async function refuseWithoutAuthority(
  deps: Deps,
  principal: UserPrincipal,
  targets: readonly BatchRow[],
  forRef: string | undefined,
  decision: 'approve' | 'deny',
  stepUp: StepUpContext,
): Promise<void> {
  const refused: { id: string; code: string; message: string; details?: Record<string, unknown> }[] = [];
  for (const row of targets) {
    if (row.status !== 'pending') continue;
    const stage = (parseFrozenWorkflow(row.workflow ?? 'null') as FrozenWorkflow | null)?.stages[row.stage ?? -1];
    if (!stage) continue;
    try {
      await resolveVote(deps.db.read, deps.clock.now(), principal, row, stage, forRef, () => checkAuthority(principal, row, stage));
      requireStepUp(principal, stage, decision, stepUp);
    } catch (e) {
      if (!isCsError(e)) throw e;
      refused.push({ id: row.id, code: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) });
    }
  }
  const first = refused[0];
  if (!first) return;
  const which = refused.length === 1 ? `action ${first.id}` : `${refused.length} actions of the batch (first ${first.id})`;
  const code = first.code === 'self_approval' || first.code === 'step_up_required' ? first.code : 'forbidden';
  throw new CsError(code, `you cannot review ${which}: ${first.message}`, { details: { refused } });
}
