import type { Deps } from '../../deps.js';
import { CsError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import type { Proposal } from '../actions/create-action.js';
import { afterUniqueClash, prepareProposal, presign, requireAgent, writeProposal } from '../actions/propose-action.js';
import type { Principal } from '../identities/principal.js';
import { parseInput } from '../validate.js';
import { type BatchView, ProposeBatchBody } from './schemas.js';

/**
 * Parallel tool calls in one request. Every action is validated first (one bad
 * item refuses the whole request, naming its index, and nothing is written),
 * then each gets its own policy decision and review; they are only stored
 * together. An Idempotency-Key covers the batch: item i uses "KEY#i".
 */
export async function proposeBatch(
  deps: Deps,
  principal: Principal,
  body: unknown,
  idempotencyKey?: string,
): Promise<{ batch: BatchView; created: boolean }> {
  const agent = requireAgent(principal);
  const input = parseInput(ProposeBatchBody, body);
  const batchId = newId();
  const proposals: Proposal[] = input.actions.map((item, i) => {
    try {
      return prepareProposal(deps, agent, item, idempotencyKey === undefined ? undefined : `${idempotencyKey}#${i}`, { batchId });
    } catch (e) {
      if (e instanceof CsError) {
        throw new CsError(e.code, `actions[${i}]: ${e.message}`, {
          issues: e.issues?.map((x) => ({ ...x, path: `actions.${i}.${x.path}` })),
        });
      }
      throw e;
    }
  });
  const signed = await Promise.all(proposals.map((p) => presign(deps, agent, p)));
  try {
    const results = await deps.committer.run(async (tx) => {
      const out = [];
      for (const p of signed) out.push(await writeProposal(tx, agent, p));
      return out;
    });
    const actions = results.map((r) => r.action);
    for (const r of results) if (r.created) deps.metrics.actionsCreated.inc({ status: r.action.status });
    return { batch: toBatch(actions[0]?.batch_id ?? batchId, actions), created: results.some((r) => r.created) };
  } catch (e) {
    // Another gateway stored the same batch first: answer with what it stored.
    const replays = [];
    for (const p of proposals) {
      const prior = await afterUniqueClash(deps, agent, p, e);
      if (!prior) throw e;
      replays.push(prior);
    }
    return { batch: toBatch(replays[0]?.batch_id ?? batchId, replays), created: false };
  }
}

export function toBatch(batchId: string, actions: BatchView['actions']): BatchView {
  return { batch_id: batchId, decided: actions.every((a) => a.status !== 'pending'), actions };
}
