import type { ApproversConfig, StageConfig, WorkflowConfig } from '../../policy/schema.js';

export type OnTimeout = 'escalate' | 'deny' | 'expire';

export interface FrozenApprovers {
  users?: string[];
  groups?: string[];
  roles?: ('reviewer' | 'admin')[];
  owner?: boolean;
}

export interface FrozenLevel {
  after_ms: number;
  approvers: FrozenApprovers;
}

export interface FrozenStage {
  index: number;
  name: string;
  approvers: FrozenApprovers;
  quorum: number;
  /** CEL source; evaluated when the stage is reached, against the action as it is then (edits included). */
  when: string | null;
  timeout_ms: number | null;
  on_timeout: OnTimeout | null;
  levels: FrozenLevel[];
  repeat: number;
  /** Approving needs a strong sign-in within this long (step-up.ts); absent in workflows frozen before step-up existed. */
  step_up?: { max_age_ms: number };
}

/**
 * A workflow resolved to plain data (durations in ms, defaults applied) and
 * stored in the action when it is created, so editing or reloading the policy
 * never changes how an action already in flight is reviewed.
 */
export interface FrozenWorkflow {
  name: string;
  expires_after_ms: number;
  stages: FrozenStage[];
}

function freezeApprovers(a: ApproversConfig): FrozenApprovers {
  const out: FrozenApprovers = {};
  if (a.users?.length) out.users = [...new Set(a.users)];
  if (a.groups?.length) out.groups = [...new Set(a.groups)];
  if (a.roles?.length) out.roles = [...new Set(a.roles)];
  if (a.owner) out.owner = true;
  return out;
}

function freezeStage(s: StageConfig, index: number): FrozenStage {
  const escalation = s.escalation;
  const levels = Array.isArray(escalation) ? escalation : (escalation?.levels ?? []);
  const repeat = Array.isArray(escalation) || escalation === undefined ? (s.repeat ?? 0) : Math.max(escalation.repeat, s.repeat ?? 0);
  return {
    index,
    name: s.name ?? `stage-${index + 1}`,
    approvers: freezeApprovers(s.approvers),
    quorum: s.quorum,
    when: s.when ?? null,
    timeout_ms: s.timeout ?? null,
    // A timeout with no instruction fails closed.
    on_timeout: s.timeout === undefined ? null : (s.on_timeout ?? 'expire'),
    levels: levels.map((l) => ({ after_ms: l.after, approvers: freezeApprovers(l.approvers) })),
    repeat,
    ...(s.step_up === undefined ? {} : { step_up: { max_age_ms: s.step_up.max_age } }),
  };
}

export function freezeWorkflow(name: string, w: WorkflowConfig, defaultExpiryMs: number): FrozenWorkflow {
  return { name, expires_after_ms: w.expires_after ?? defaultExpiryMs, stages: w.stages.map(freezeStage) };
}

export function parseFrozenWorkflow(text: string): FrozenWorkflow {
  return JSON.parse(text) as FrozenWorkflow;
}

/** The stage an action is pending in under its frozen workflow; undefined without a workflow or a stage. */
export function currentStage(row: { workflow: string | null; stage: number | null }): FrozenStage | undefined {
  return row.workflow === null ? undefined : parseFrozenWorkflow(row.workflow).stages[row.stage ?? -1];
}

/** Total escalation firings a stage can have: every level once, then `repeat` more rounds as reminders. */
export function maxFirings(stage: FrozenStage): number {
  return stage.levels.length * (stage.repeat + 1);
}
