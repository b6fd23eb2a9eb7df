import type { Tx } from '../../db/committer.js';
import type { ActionsTable, TimersTable } from '../../db/types.js';
import type { Deps } from '../../deps.js';
import { EVENT } from '../../events/types.js';
import { formatDuration } from '../../lib/duration.js';
import { assertNever } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { askedForEscalation, emitActionEvent, emitStatus } from '../actions/emit-action-event.js';
import { applyProgress, applyTransition, tryLock } from '../actions/transition.js';
import { approversInForce } from './eligibility.js';
import { type FrozenStage, maxFirings, parseFrozenWorkflow } from './frozen.js';
import type { TimerKind } from './stages.js';

const BATCH = 100;
const SYSTEM = { type: 'system' as const, id: null };

/**
 * Fires every workflow deadline that has come due. Timers are rows, so this
 * picks up whatever came due while no gateway was running. On PostgreSQL each
 * pass claims its timers with FOR UPDATE SKIP LOCKED and then tries the
 * action's row the same way, so several gateways can run it at once: each
 * timer fires once, and a reviewer holding the action is never deadlocked.
 */
export async function fireDueTimers(deps: Deps): Promise<number> {
  let fired = 0;
  for (;;) {
    // The op may run again if its batch is retried, so it only reports what fired; the metric counts after commit.
    const { claimed, kinds } = await deps.committer.run(async (tx) => {
      let q = tx.db.selectFrom('timers').selectAll().where('due_at', '<=', tx.now).orderBy('due_at').orderBy('id').limit(BATCH);
      if (tx.caps.skipLocked) q = q.forUpdate().skipLocked();
      const due = await q.execute();
      const firedKinds: string[] = [];
      for (const timer of due) {
        const row = await tryLock(tx, timer.action_id);
        if (row === undefined && tx.caps.skipLocked) continue; // Busy with a reviewer: the next pass gets it.
        await tx.db.deleteFrom('timers').where('id', '=', timer.id).execute();
        if (row && (await fireTimer(tx, timer, row))) firedKinds.push(timer.kind);
      }
      return { claimed: due.length, kinds: firedKinds };
    });
    for (const kind of kinds) deps.metrics.timersFired.inc({ kind });
    fired += kinds.length;
    if (claimed < BATCH) return fired;
  }
}

/** The earliest workflow deadline, so the scheduler can sleep until then. */
export async function nextTimer(deps: Deps): Promise<number | null> {
  const row = await deps.db.read
    .selectFrom('timers')
    .select((eb) => eb.fn.min('due_at').as('next'))
    .executeTakeFirst();
  return row?.next === null || row?.next === undefined ? null : Number(row.next);
}

async function fireTimer(tx: Tx, timer: TimersTable, row: ActionsTable): Promise<boolean> {
  // A timer from a stage the action has left (or a decided action) is stale; so is one past the overall deadline, which expiry owns.
  if (row.status !== 'pending' || row.stage !== timer.stage || row.stage_started_at !== timer.stage_started_at) return false;
  if (row.expires_at !== null && row.expires_at <= tx.now) return false;
  const stage = parseFrozenWorkflow(row.workflow as string).stages[timer.stage];
  if (!stage) return false;
  const kind = timer.kind as TimerKind;
  switch (kind) {
    case 'escalation':
      if (timer.firing !== row.escalations) return false; // Already brought forward by the stage's time-out.
      await escalate(tx, row, stage, timer.due_at);
      return true;
    case 'stage_timeout':
      await timeOut(tx, row, stage, timer.due_at);
      return true;
    default:
      return assertNever(kind, 'timer kind');
  }
}

async function timeOut(tx: Tx, row: ActionsTable, stage: FrozenStage, dueAt: number): Promise<void> {
  const approvals = await tx.db
    .selectFrom('reviews')
    .select('id')
    .where('action_id', '=', row.id)
    .where('stage', '=', stage.index)
    .where('decision', '=', 'approve')
    .execute();
  const summary = `Stage "${stage.name}" got ${approvals.length} of ${stage.quorum} approval(s) in ${formatDuration(stage.timeout_ms ?? 0)}`;
  const onTimeout = stage.on_timeout ?? 'expire';
  switch (onTimeout) {
    case 'escalate':
      tx.audit({ actor: SYSTEM, event: 'action.stage_timed_out', actionId: row.id, data: { stage: stage.name, on_timeout: 'escalate' } });
      if (row.escalations < maxFirings(stage)) await escalate(tx, row, stage, dueAt);
      return;
    case 'deny':
    case 'expire': {
      const reason = `${summary}; the action was ${onTimeout === 'deny' ? 'denied' : 'left to expire'} and was not approved.`;
      const decided = await applyTransition(tx, row, onTimeout, {
        decided_at: tx.now,
        decided_by_type: 'system',
        decided_by_id: null,
        decided_by_label: 'stage-timeout',
        reason,
      });
      tx.audit({
        actor: SYSTEM,
        event: onTimeout === 'deny' ? 'action.denied' : 'action.expired',
        actionId: row.id,
        data: { by: 'stage-timeout', stage: stage.name, reason },
      });
      await emitStatus(tx, decided);
      return;
    }
    default:
      assertNever(onTimeout, 'on_timeout');
  }
}

/**
 * The next escalation level adds its approvers (or, once all have, reminds
 * everyone again) and arms the one after, counted from when this one was due
 * so the schedule does not drift with the scheduler's lateness.
 */
async function escalate(tx: Tx, row: ActionsTable, stage: FrozenStage, dueAt: number): Promise<void> {
  const n = row.escalations;
  const level = stage.levels[n % stage.levels.length];
  if (!level) return;
  const updated = await applyProgress(tx, row, 'approve', { escalations: n + 1 });
  await tx.db.deleteFrom('timers').where('action_id', '=', row.id).where('kind', '=', 'escalation').execute();
  const next = stage.levels[(n + 1) % stage.levels.length];
  if (next && n + 1 < maxFirings(stage)) {
    await tx.db
      .insertInto('timers')
      .values({
        id: newId(),
        action_id: row.id,
        kind: 'escalation' satisfies TimerKind,
        stage: stage.index,
        stage_started_at: row.stage_started_at as number,
        firing: n + 1,
        due_at: dueAt + next.after_ms,
      })
      .execute();
  }
  const reminder = n >= stage.levels.length;
  const levelNo = (n % stage.levels.length) + 1;
  const round = Math.floor(n / stage.levels.length) + 1;
  tx.audit({
    actor: SYSTEM,
    event: 'action.escalated',
    actionId: row.id,
    data: {
      stage: stage.name,
      level: levelNo,
      round,
      reminder,
      approvers: level.approvers,
    },
  });
  // A reminder re-asks everyone who may vote now; an escalation asks its level's people.
  const asked = askedForEscalation(
    { index: stage.index, name: stage.name },
    reminder ? approversInForce(stage, updated.escalations) : [level.approvers],
    levelNo,
    round,
    reminder,
  );
  await emitActionEvent(tx, updated, reminder ? EVENT.actionReminder : EVENT.actionEscalated, { asked });
}
