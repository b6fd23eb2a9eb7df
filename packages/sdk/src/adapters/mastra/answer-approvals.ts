import { refusalMessage } from '../../errors.js';
import type { Action } from '../../types.js';
import { type Arguments, gateOf } from './approval-tool.js';

/** What Mastra's `generate()` / `approveToolCallGenerate()` return, as far as this module reads it. */
export interface MastraOutput {
  finishReason?: string;
  runId?: string;
  suspendPayload?: unknown;
}

/** The agent methods that answer a tool-approval stop (`Agent` from `@mastra/core/agent` has them). */
export interface ApprovingAgent<O extends MastraOutput> {
  approveToolCallGenerate(options: { runId: string; toolCallId?: string }): Promise<O>;
  declineToolCallGenerate(options: { runId: string; toolCallId?: string; reason?: string }): Promise<O>;
}

/**
 * Options for {@link answerToolApprovals}.
 *
 * @example
 * const options: AnswerToolApprovalsOptions = { timeout: 10 * 60_000 };
 */
export interface AnswerToolApprovalsOptions {
  /** Wait for decisions on calls still under review (default `true`); `false` answers only calls already decided. */
  wait?: boolean;
  /** Stop waiting; the run stays suspended on the undecided call (its action stays pending at the gateway). */
  signal?: AbortSignal;
  /** Stop waiting on one call after this many milliseconds; the run stays suspended on it. */
  timeout?: number;
}

/**
 * What became of one tool-approval stop.
 *
 * @example
 * const { answered } = await answerToolApprovals(agent, output, tools);
 * const denied = answered.filter((a) => a.outcome === 'declined').map((a) => a.reason);
 */
export interface AnsweredApproval {
  toolCallId: string;
  toolName: string;
  /** `'approved'` / `'declined'` in Mastra; `'pending'`: undecided, the run is left suspended on it. */
  outcome: 'approved' | 'declined' | 'pending';
  action: Action;
  /** For a decline: "Denied by alice@example.com: not during the freeze. The tool "deploy" was not run." */
  reason: string | null;
}

interface ApprovalStop {
  toolCallId: string;
  toolName: string;
  args: Arguments;
}

/**
 * Answers a Mastra agent's tool-approval stops from Countersign decisions, one after another, until the run
 * finishes or stops on something else (a call of a tool not gated by this adapter, another kind of suspension).
 *
 * For each stop on a tool from `withApproval` / `withApprovals`: finds the call's action (keyed by Mastra's
 * tool-call id, so it also works for a run resumed in another process from Mastra's storage), waits for its
 * decision, then `approveToolCallGenerate` (the tool runs with the approved, possibly edited, arguments, at most
 * once) or `declineToolCallGenerate` with who refused it and why, which the model reads. Parallel calls stop one
 * at a time in Mastra; each is decided independently. Returns the last output and what was answered.
 *
 * @example
 * import { Agent } from '@mastra/core/agent';
 * import { answerToolApprovals, withApprovals } from '@countersign/sdk/mastra';
 *
 * const tools = withApprovals(cs, { deploy, readLogs }, { except: ['readLogs'] });
 * const agent = new Agent({ id: 'ops', name: 'ops', instructions, model, tools });
 * const { output } = await answerToolApprovals(agent, await agent.generate('Deploy api'), tools);
 * console.log(output.text);
 */
export async function answerToolApprovals<O extends MastraOutput>(
  agent: ApprovingAgent<O>,
  output: O,
  tools: Readonly<Record<string, unknown>>,
  options: AnswerToolApprovalsOptions = {},
): Promise<{ output: O; answered: AnsweredApproval[] }> {
  const answered: AnsweredApproval[] = [];
  let current = output;
  for (;;) {
    const stop = approvalStopOf(current);
    const gate = stop && current.runId !== undefined ? gateOf(tools[stop.toolName]) : undefined;
    if (!stop || !gate || current.runId === undefined) return { output: current, answered };
    // Answered once already and stopped on again: the run did not move on, so answering again would loop.
    if (answered.some((a) => a.toolCallId === stop.toolCallId)) return { output: current, answered };
    let action = await gate.propose(stop.args, stop.toolCallId);
    if (action.status === 'pending' && options.wait !== false) {
      action = await gate.client.waitForDecision(action.id, {
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
      });
    }
    const base = { toolCallId: stop.toolCallId, toolName: stop.toolName, action };
    switch (action.status) {
      case 'pending':
        answered.push({ ...base, outcome: 'pending', reason: null });
        return { output: current, answered };
      // Executed or failed: it ran once already; the tool's execute returns the recorded outcome, never a second run.
      case 'approved':
      case 'executed':
      case 'failed':
        answered.push({ ...base, outcome: 'approved', reason: null });
        current = await agent.approveToolCallGenerate({ runId: current.runId, toolCallId: stop.toolCallId });
        break;
      case 'denied':
      case 'expired':
      case 'cancelled': {
        const reason = refusalMessage(action);
        answered.push({ ...base, outcome: 'declined', reason });
        current = await agent.declineToolCallGenerate({ runId: current.runId, toolCallId: stop.toolCallId, reason });
        break;
      }
    }
  }
}

/** The tool-approval stop an output is suspended on, if any (Mastra's `suspendPayload` for `requireApproval`). */
function approvalStopOf(output: MastraOutput): ApprovalStop | undefined {
  if (output.finishReason !== 'suspended') return undefined;
  const p = output.suspendPayload as Partial<ApprovalStop> | undefined;
  if (typeof p?.toolCallId !== 'string' || typeof p.toolName !== 'string') return undefined;
  const args = typeof p.args === 'object' && p.args !== null && !Array.isArray(p.args) ? p.args : {};
  return { toolCallId: p.toolCallId, toolName: p.toolName, args };
}
