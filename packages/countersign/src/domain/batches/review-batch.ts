import type { Deps } from '../../deps.js';
import { CsError, isCsError } from '../../lib/errors.js';
import { isId } from '../../lib/ids.js';
import { type ReviewChannel, reviewAction } from '../actions/review-action.js';
import type { Principal } from '../identities/principal.js';
import { parseInput } from '../validate.js';
import { BatchReviewBody, type BatchReviewResult } from './schemas.js';

/**
 * "Decide all": one vote per pending action of the batch, each its own
 * transaction with every rule of a single review (eligibility, self-approval,
 * quorum). One action refusing the vote does not stop the others.
 */
export async function reviewBatch(
  deps: Deps,
  principal: Principal,
  batchId: string,
  body: unknown,
  channel: ReviewChannel = 'api',
): Promise<BatchReviewResult> {
  if (principal.type === 'agent') throw new CsError('forbidden', 'agent keys can never review actions');
  const input = parseInput(BatchReviewBody, body);
  if (!isId(batchId)) throw new CsError('not_found', `no batch with id ${batchId}`);
  const rows = await deps.db.read.selectFrom('actions').select(['id', 'status']).where('batch_id', '=', batchId).orderBy('id').execute();
  if (rows.length === 0) throw new CsError('not_found', `no batch with id ${batchId}`);
  const inBatch = new Set(rows.map((r) => r.id));
  const unknown = input.ids?.filter((id) => !inBatch.has(id)) ?? [];
  if (unknown.length > 0) throw new CsError('invalid_request', `not in batch ${batchId}: ${unknown.join(', ')}`);
  const targets = input.ids ?? rows.filter((r) => r.status === 'pending').map((r) => r.id);
  const vote = { decision: input.decision, ...(input.reason ? { reason: input.reason } : {}) };
  // Concurrent, so the votes share a group commit; each still succeeds or fails alone.
  const results = await Promise.all(
    targets.map(async (id): Promise<BatchReviewResult['results'][number]> => {
      try {
        return { id, ok: true, action: await reviewAction(deps, principal, id, vote, channel) };
      } catch (e) {
        if (!isCsError(e)) throw e;
        return { id, ok: false, error: { code: e.code, message: e.message } };
      }
    }),
  );
  return { batch_id: batchId, results };
}
