import type { RunToolApprovalItem } from '@openai/agents';
import { refusalMessage } from '../../errors.js';
import type { Action } from '../../types.js';
import { type Arguments, type Gate, gateOf, parseArguments } from './gate.js';

/**
 * What {@link resolveInterruptions} needs of a run: `RunState` from `@openai/agents` has this shape.
 *
 * @example
 * const state: ApprovableRunState = await RunState.fromString(agent, saved);
 */
export interface ApprovableRunState {
  getInterruptions(): RunToolApprovalItem[];
  approve(item: RunToolApprovalItem): void;
  reject(item: RunToolApprovalItem, options?: { message?: string }): void;
}

/**
 * A run whose interruptions can be resolved: a `RunState`, or a `RunResult` / `StreamedRunResult` (its `state`).
 *
 * @example
 * const target: ApprovableRun = await run(agent, 'Deploy api'); // or result.state, or RunState.fromString(…)
 */
export type ApprovableRun = ApprovableRunState | { readonly state: ApprovableRunState };

/**
 * Options for {@link resolveInterruptions}.
 *
 * @example
 * // Read the decisions made so far, without waiting (e.g. from a job that polls):
 * const options: ResolveInterruptionsOptions = { wait: false };
 */
export interface ResolveInterruptionsOptions {
  /** Wait for a decision on calls still under review (default `true`); `false` only reads where they stand. */
  wait?: boolean;
  /** Stop waiting; calls not yet decided are left pending (the actions stay pending at the gateway). */
  signal?: AbortSignal;
  /** Stop waiting after this many milliseconds; calls not yet decided are left pending. */
  timeout?: number;
}

/**
 * What became of one interruption.
 *
 * @example
 * const resolutions = await resolveInterruptions(result, { wait: false });
 * const waiting = resolutions.filter((r) => r.outcome === 'pending').map((r) => r.action?.id);
 */
export interface InterruptionResolution {
  item: RunToolApprovalItem;
  /**
   * - `'approved'`: approved in the run state (the call runs, or returns its recorded output, on resume);
   * - `'rejected'`: rejected in the run state, with `message` as what the model reads;
   * - `'pending'`: no decision yet; left as it is;
   * - `'skipped'`: not a call of an `approvalTool`; left for the caller to decide.
   */
  outcome: 'approved' | 'rejected' | 'pending' | 'skipped';
  /** The call's Countersign action (null when skipped, or when the call could not be proposed). */
  action: Action | null;
  /** For a rejection: "Denied by alice@example.com: not during the freeze. The tool "deploy" was not run." */
  message: string | null;
}

/**
 * Resolves a run's interruptions from Countersign: for each call of an `approvalTool`, finds its action (the
 * same key and body as when the call was proposed, so this also works on a `RunState` restored with
 * `RunState.fromString` in another process), waits for its decision, and approves or rejects the call in the
 * run state. A rejection carries who refused it and why, which the model reads as the call's output when the
 * run resumes. Calls are decided independently and waited for in parallel. Resume with `run(agent, state)`.
 *
 * Interruptions of other tools are left alone (`'skipped'`). Resolving the same interruptions again, or
 * resuming a stale copy of the state, is safe: a call that already ran returns its recorded output instead
 * of running twice.
 *
 * @example
 * import { Agent, RunState, run } from '@openai/agents';
 * import { resolveInterruptions } from '@countersign/sdk/openai-agents';
 *
 * // Process 1: the run stops for review; keep its state.
 * const result = await run(agent, 'Deploy api');
 * if (result.interruptions.length > 0) await db.save(runId, result.state.toString());
 *
 * // Process 2 (later, or after a restart): same tools, a new Agent.
 * const state = await RunState.fromString(agent, await db.load(runId));
 * await resolveInterruptions(state); // waits for the reviewers
 * const resumed = await run(agent, state);
 */
export async function resolveInterruptions(
  run: ApprovableRun,
  options: ResolveInterruptionsOptions = {},
): Promise<InterruptionResolution[]> {
  const state = 'getInterruptions' in run ? run : run.state;
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  if (options.signal?.aborted) stop.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await Promise.all(state.getInterruptions().map((item) => resolveOne(state, item, { ...options, signal: stop.signal })));
  } catch (e) {
    // One failed look-up fails the whole call: end the other waits rather than leave them running unseen.
    stop.abort();
    throw e;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}

async function resolveOne(
  state: ApprovableRunState,
  item: RunToolApprovalItem,
  options: ResolveInterruptionsOptions & { signal: AbortSignal },
): Promise<InterruptionResolution> {
  const call = gatedCall(item);
  if (!call) return { item, outcome: 'skipped', action: null, message: null };
  if (!call.args) {
    // Malformed JSON from the model: there is nothing a reviewer could approve and the call could never run.
    return reject(state, item, null, `The tool "${call.gate.tool}" was not run: its arguments were not a JSON object.`);
  }
  let action = await call.gate.propose(call.args, call.callId);
  if (action.status === 'pending' && options.wait !== false) {
    action = await call.gate.client.waitForDecision(action.id, {
      signal: options.signal,
      ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
    });
  }
  return apply(state, item, action);
}

/** Approves or rejects the call in the run state as Countersign decided. */
function apply(state: ApprovableRunState, item: RunToolApprovalItem, action: Action): InterruptionResolution {
  switch (action.status) {
    case 'pending':
      return { item, outcome: 'pending', action, message: null };
    case 'approved':
    // Already ran (failed or not): approving lets the call return its recorded outcome instead of running again.
    case 'executed':
    case 'failed':
      state.approve(item);
      return { item, outcome: 'approved', action, message: null };
    case 'denied':
    case 'expired':
    case 'cancelled':
      return reject(state, item, action, refusalMessage(action));
  }
}

function reject(state: ApprovableRunState, item: RunToolApprovalItem, action: Action | null, message: string): InterruptionResolution {
  state.reject(item, { message });
  return { item, outcome: 'rejected', action, message };
}

/** The approval tool behind an interruption, its call id and the arguments the model sent. */
function gatedCall(item: RunToolApprovalItem): { gate: Gate; callId: string; args: Arguments | undefined } | undefined {
  const raw = item.rawItem;
  if (raw.type !== 'function_call') return undefined;
  for (const t of item.agent.tools) {
    const gate = t.type === 'function' && t.name === raw.name ? gateOf(t) : undefined;
    if (gate) return { gate, callId: raw.callId, args: parseArguments(raw.arguments) };
  }
  return undefined;
}
