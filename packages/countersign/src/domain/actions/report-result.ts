import type { Deps } from '../../deps.js';
import { CsError } from '../../lib/errors.js';
import type { Principal } from '../identities/principal.js';
import { parseInput } from '../validate.js';
import { emitStatus } from './emit-action-event.js';
import { checkArguments } from './limits.js';
import { type ActionView, ResultBody } from './schemas.js';
import { applyTransition, loadForUpdate } from './transition.js';

/** The requesting agent reports how an approved action's run went; accepted once. */
export async function reportResult(deps: Deps, principal: Principal, actionId: string, body: unknown): Promise<ActionView> {
  if (principal.type !== 'agent') throw new CsError('forbidden', 'only the agent that proposed an action can report its result');
  const input = parseInput(ResultBody, body);
  // The output is agent-supplied JSON shown to people like arguments are, so it gets the same depth and size bounds.
  const outputText = input.output === undefined ? null : checkArguments(deps.config, 'output', input.output);
  const view = await deps.committer.run(async (tx) => {
    const row = await loadForUpdate(tx, actionId);
    if (row.agent_id !== principal.id) throw new CsError('not_found', `no action with id ${actionId}`);
    const updated = await applyTransition(tx, row, input.outcome === 'succeeded' ? 'succeed' : 'fail', {
      result_outcome: input.outcome,
      result_output: outputText,
      result_at: tx.now,
    });
    tx.audit({
      actor: { type: 'agent', id: principal.id },
      event: input.outcome === 'succeeded' ? 'action.executed' : 'action.failed',
      actionId: row.id,
      data: { outcome: input.outcome, output: input.output ?? null },
    });
    return emitStatus(tx, updated);
  });
  deps.metrics.transitions.inc({ status: input.outcome === 'succeeded' ? 'executed' : 'failed' });
  return view;
}
