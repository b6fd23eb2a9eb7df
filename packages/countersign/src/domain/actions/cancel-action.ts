import type { Deps } from '../../deps.js';
import { CsError } from '../../lib/errors.js';
import type { Principal } from '../identities/principal.js';
import { parseInput } from '../validate.js';
import { emitStatus } from './emit-action-event.js';
import { checkReason } from './limits.js';
import { type ActionView, CancelBody } from './schemas.js';
import { applyTransition, loadForUpdate } from './transition.js';

/** The requesting agent withdraws its own pending action. */
export async function cancelAction(deps: Deps, principal: Principal, actionId: string, body: unknown): Promise<ActionView> {
  if (principal.type !== 'agent') throw new CsError('forbidden', 'only the agent that proposed an action can cancel it');
  const input = parseInput(CancelBody, body ?? {});
  const reason = checkReason(deps.config, input.reason);
  const view = await deps.committer.run(async (tx) => {
    const row = await loadForUpdate(tx, actionId);
    // Another agent's action is reported as absent, not forbidden: agents cannot probe for ids.
    if (row.agent_id !== principal.id) throw new CsError('not_found', `no action with id ${actionId}`);
    const updated = await applyTransition(tx, row, 'cancel', {
      decided_at: tx.now,
      decided_by_type: 'agent',
      decided_by_id: principal.id,
      decided_by_label: principal.name,
      reason: reason ?? 'cancelled by the agent',
    });
    tx.audit({ actor: { type: 'agent', id: principal.id }, event: 'action.cancelled', actionId: row.id, data: { reason } });
    return emitStatus(tx, updated);
  });
  deps.metrics.transitions.inc({ status: 'cancelled' });
  return view;
}
