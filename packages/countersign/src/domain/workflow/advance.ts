import type { Tx } from '../../db/committer.js';
import type { ActionsTable } from '../../db/types.js';
import type { PolicyInput } from '../../policy/cel-env.js';
import { policyInputFromRow } from '../actions/policy-input.js';
import type { FrozenStage, FrozenWorkflow } from './frozen.js';
import { clearTimers, nextApplicableStage, scheduleStageTimers } from './stages.js';

export interface StageChanges {
  stage: number;
  stage_started_at: number;
  escalations: number;
}

/**
 * A stage reached its quorum: move to the next stage whose condition holds
 * (evaluated against the action as it is now, edits included) and arm its
 * deadlines, or return null when none is left and the action is approved.
 */
export async function advanceAfterQuorum(tx: Tx, row: ActionsTable, wf: FrozenWorkflow, done: FrozenStage): Promise<StageChanges | null> {
  // The agent's labels cost a query; only a later stage's condition needs them.
  const conditional = wf.stages.slice(done.index + 1).some((s) => s.when !== null);
  const input = conditional ? await policyInputFromRow(tx.db, row, tx.now) : undefined;
  const entry = nextApplicableStage(wf, done.index + 1, () => input as PolicyInput);
  const data = { from: done.name, skipped: entry.skipped, ...(entry.errors.length ? { errors: entry.errors } : {}) };
  if (!entry.stage) {
    if (entry.skipped.length > 0) tx.audit({ actor: { type: 'system', id: null }, event: 'action.stages_skipped', actionId: row.id, data });
    return null;
  }
  await clearTimers(tx, row.id);
  await scheduleStageTimers(tx, row.id, entry.stage, tx.now);
  tx.audit({
    actor: { type: 'system', id: null },
    event: 'action.stage_started',
    actionId: row.id,
    data: { ...data, stage: entry.stage.name },
  });
  return { stage: entry.stage.index, stage_started_at: tx.now, escalations: 0 };
}
