import type { Actor } from '../../db/committer.js';
import type { Deps } from '../../deps.js';
import { CsError } from '../../lib/errors.js';
import { selectActionRows } from '../actions/action-rows.js';
import { emitStatus } from '../actions/emit-action-event.js';
import { applyTransition } from '../actions/transition.js';
import { bumpIdentityEpoch } from './epoch.js';
import { findAgent } from './lookup.js';

export interface DisabledAgent {
  id: string;
  name: string;
  /** Ids of the pending actions withdrawn with it. */
  cancelled: string[];
}

/**
 * Stops an agent: its keys stop working, its open streams and long-polls end, and every action it
 * still has pending is cancelled with the reason, in the same transaction, so no reviewer approves
 * work for an agent that can no longer carry it out and every waiter gets its answer. An action
 * already past its deadline is left to the scheduler, which expires it (it can only expire now).
 */
export async function disableAgent(deps: Deps, actor: Actor, nameOrId: string, reason?: string): Promise<DisabledAgent> {
  const why = reason?.trim() || 'the agent was disabled';
  if (why.length > 1000) throw new CsError('invalid_request', 'the reason is at most 1000 characters');
  const result = await deps.committer.run(async (tx) => {
    const agent = await findAgent(tx.db, nameOrId);
    const res = await tx.db
      .updateTable('agents')
      .set({ disabled_at: tx.now })
      .where('id', '=', agent.id)
      .where('disabled_at', 'is', null)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) throw new CsError('conflict', `agent ${agent.name} is already disabled`);
    await bumpIdentityEpoch(tx);
    tx.audit({ actor, event: 'agent.disabled', data: { agent_id: agent.id, name: agent.name, reason: why } });
    const pending = await selectActionRows(tx.db).where('agent_id', '=', agent.id).where('status', '=', 'pending').orderBy('id').execute();
    const cancelled: string[] = [];
    for (const row of pending) {
      if (row.expires_at !== null && row.expires_at <= tx.now) continue;
      const updated = await applyTransition(tx, row, 'cancel', {
        decided_at: tx.now,
        // The wire's parties are user | agent | policy | grant | system; an operator at the CLI is "system".
        decided_by_type: actor.type === 'user' ? 'user' : 'system',
        decided_by_id: actor.id,
        decided_by_label: actor.id ?? 'system',
        reason: why,
      });
      tx.audit({ actor, event: 'action.cancelled', actionId: row.id, data: { reason: why } });
      await emitStatus(tx, updated);
      cancelled.push(row.id);
    }
    return { id: agent.id, name: agent.name, cancelled };
  });
  deps.identities.changed();
  if (result.cancelled.length > 0) deps.metrics.transitions.inc({ status: 'cancelled' }, result.cancelled.length);
  return result;
}
