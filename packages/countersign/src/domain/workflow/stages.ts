import type { Tx } from '../../db/committer.js';
import { newId } from '../../lib/ids.js';
import { compileCondition, type PolicyInput } from '../../policy/cel-env.js';
import type { FrozenStage, FrozenWorkflow } from './frozen.js';

export interface StageEntry {
  /** The stage to wait in, or null when every remaining stage was skipped. */
  stage: FrozenStage | null;
  skipped: string[];
  /** Stage conditions that failed to evaluate; such a stage is entered, never skipped. */
  errors: { stage: string; message: string }[];
}

/**
 * The first stage at or after `from` whose condition holds. A condition that
 * cannot be evaluated counts as holding: an error means more review, never less.
 */
export function nextApplicableStage(wf: FrozenWorkflow, from: number, input: () => PolicyInput): StageEntry {
  const skipped: string[] = [];
  const errors: StageEntry['errors'] = [];
  let cached: PolicyInput | undefined;
  for (const stage of wf.stages.slice(from)) {
    if (stage.when === null) return { stage, skipped, errors };
    try {
      cached ??= input();
      if (compileCondition(stage.when).evaluate(cached)) return { stage, skipped, errors };
      skipped.push(stage.name);
    } catch (e) {
      errors.push({ stage: stage.name, message: (e as Error).message });
      return { stage, skipped, errors };
    }
  }
  return { stage: null, skipped, errors };
}

export const TIMER_KINDS = ['stage_timeout', 'escalation'] as const;
export type TimerKind = (typeof TIMER_KINDS)[number];

/** Writes the durable deadlines of a stage just entered: its time-out and its first escalation. */
export async function scheduleStageTimers(tx: Tx, actionId: string, stage: FrozenStage, startedAt: number): Promise<void> {
  const rows: { kind: TimerKind; firing: number; due_at: number }[] = [];
  if (stage.timeout_ms !== null) rows.push({ kind: 'stage_timeout', firing: 0, due_at: startedAt + stage.timeout_ms });
  const first = stage.levels[0];
  if (first) rows.push({ kind: 'escalation', firing: 0, due_at: startedAt + first.after_ms });
  if (rows.length === 0) return;
  await tx.db
    .insertInto('timers')
    .values(rows.map((r) => ({ id: newId(), action_id: actionId, stage: stage.index, stage_started_at: startedAt, ...r })))
    .execute();
}

/** Drops an action's remaining deadlines when it leaves a stage or is decided. */
export async function clearTimers(tx: Tx, actionId: string): Promise<void> {
  await tx.db.deleteFrom('timers').where('action_id', '=', actionId).execute();
}
