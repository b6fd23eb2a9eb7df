import { Command, type Interrupt } from '@langchain/langgraph';
import type { Client } from '../../client.js';
import { CountersignError } from '../../errors.js';
import type { Action } from '../../types.js';
import { type ApprovalInterrupt, type ApprovalResume, isApprovalInterrupt } from './payload.js';

/**
 * Where the interrupts are: what `graph.invoke(…)` returned (its `__interrupt__`), a state snapshot from
 * `graph.getState(config)` (its tasks' `interrupts`), or the interrupts themselves.
 */
export type Interrupted =
  | { __interrupt__?: readonly Interrupt[] }
  | { tasks: readonly { interrupts?: readonly Interrupt[] }[] }
  | readonly Interrupt[];

/** Options for {@link resumeFromCountersign}. */
export interface ResumeFromCountersignOptions {
  /** Wait for the decisions (default `true`); `false` only reads where they stand now. */
  wait?: boolean;
  /** Stop waiting after this many milliseconds; what is still undecided is left interrupted. */
  timeout?: number;
  /** Stop waiting; what is still undecided is left interrupted. */
  signal?: AbortSignal;
}

/**
 * A `Command` that only resumes: no state update and no `goto`, so it fits any graph's `invoke` (which
 * types a command's update and node names by that graph).
 */
export type ResumeCommand = Command<Record<string, ApprovalResume>, Record<string, never>, never>;

/** How the Countersign interrupts of a paused graph stand, and the command that resumes those with a decision. */
export interface Resumption {
  /**
   * `graph.invoke(command, config)`: resumes every interrupt with at least one decided approval (a map of
   * interrupt id → {@link ApprovalResume}, so one command answers several). Undefined when none is decided yet.
   */
  command: ResumeCommand | undefined;
  /** The resume map itself, e.g. to merge with answers to other interrupts of the same graph. */
  resume: Record<string, ApprovalResume>;
  /** The decided actions (approved, denied, expired, cancelled, or already run). */
  decided: Action[];
  /** The actions still awaiting review. */
  pending: Action[];
}

/**
 * Builds the `Command({ resume })` that resumes a graph paused by {@link interruptForApproval} or
 * {@link approvalNode}, from the decisions at the gateway: waits for the approvals its interrupts list
 * (independently, in parallel), then resumes each interrupt that has a decision. The resumed nodes read the
 * decisions again themselves; what this puts in the command is only a hint to do so. Interrupts raised by
 * anything else are left alone. Returns `undefined` when there is no Countersign interrupt.
 *
 * @example
 * import { resumeFromCountersign } from '@countersign/sdk/langgraph';
 *
 * const config = { configurable: { thread_id: runId } };
 * let state = await graph.invoke({ messages: [new HumanMessage('Ship api')] }, config);
 * for (let r = await resumeFromCountersign(cs, state); r?.command; r = await resumeFromCountersign(cs, state)) {
 *   state = await graph.invoke(r.command, config); // approved calls run once, refused ones answer the model
 * }
 */
export async function resumeFromCountersign(
  client: Client,
  interrupted: Interrupted,
  options: ResumeFromCountersignOptions = {},
): Promise<Resumption | undefined> {
  const ours = interruptsOf(interrupted).filter((i): i is Interrupt<ApprovalInterrupt> => isApprovalInterrupt(i.value));
  if (ours.length === 0) return undefined;
  const ids = [...new Set(ours.flatMap((i) => (i.value as ApprovalInterrupt).approvals.map((a) => a.approval_id)))];
  const actions = new Map((await decisions(client, ids, options)).map((a) => [a.id, a]));
  const resume: Record<string, ApprovalResume> = {};
  for (const i of ours) {
    const approvalIds = (i.value as ApprovalInterrupt).approvals.map((a) => a.approval_id);
    if (!approvalIds.some((id) => actions.get(id)?.status !== 'pending')) continue;
    if (!i.id) throw new CountersignError('invalid_request', 'a Countersign interrupt has no id, so it cannot be resumed by id');
    resume[i.id] = { type: 'countersign.recheck', approval_ids: approvalIds };
  }
  const all = [...actions.values()];
  return {
    command:
      Object.keys(resume).length > 0 ? new Command<Record<string, ApprovalResume>, Record<string, never>, never>({ resume }) : undefined,
    resume,
    decided: all.filter((a) => a.status !== 'pending'),
    pending: all.filter((a) => a.status === 'pending'),
  };
}

function interruptsOf(interrupted: Interrupted): readonly Interrupt[] {
  if (Array.isArray(interrupted)) return interrupted as readonly Interrupt[];
  if ('tasks' in interrupted) return interrupted.tasks.flatMap((t) => t.interrupts ?? []);
  return (interrupted as { __interrupt__?: readonly Interrupt[] }).__interrupt__ ?? [];
}

/** Every action's decision (or where it stands when the wait ends); one failed look-up ends the other waits. */
async function decisions(client: Client, ids: readonly string[], options: ResumeFromCountersignOptions): Promise<Action[]> {
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  if (options.signal?.aborted) stop.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const timeout = options.wait === false ? 0 : options.timeout;
  try {
    return await Promise.all(
      ids.map((id) =>
        client.waitForDecision(id, { signal: stop.signal, ...(timeout === undefined ? {} : { timeout }) }).catch((e: unknown) => {
          stop.abort();
          throw e;
        }),
      ),
    );
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}
