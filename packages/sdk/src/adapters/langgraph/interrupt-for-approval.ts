import { type ToolCall, ToolMessage } from '@langchain/core/messages';
import { interrupt } from '@langchain/langgraph';
import type { Client } from '../../client.js';
import { CountersignError } from '../../errors.js';
import type { GuardOptions } from '../../guard.js';
import { isApprovalPending } from '../../harness.js';
import {
  type CallProposalOptions,
  describeCall,
  earlierResultMessage,
  refusalToolMessage,
  runGated,
  type ToolArgs,
} from '../langchain/shared.js';
import { type ApprovalInterrupt, type PendingApproval, reviewUrl } from './payload.js';

/** Options for {@link interruptForApproval}: how each call is proposed, and the review link shown in the interrupt. */
export interface InterruptForApprovalOptions extends Omit<CallProposalOptions, 'timeout'> {
  /** The review link in the interrupt payload; `{id}` is the action id (default: the action's URL at the gateway). */
  reviewUrl?: string;
  /** Passed to the tool through guard's call context. */
  signal?: AbortSignal;
}

/**
 * Runs one approved call: its result may be a ToolMessage (used as it is; status `error` is reported as failed)
 * or any value (the content of a success ToolMessage). `call.args` are the **approved** arguments.
 */
export type ExecuteCall = (call: ToolCall & { id: string }) => unknown;

type Settled = { kind: 'done'; message: ToolMessage } | { kind: 'pending'; approval: PendingApproval };

/** The tool's own failure, carried through guard() (which reports it as failed) to become an error ToolMessage. */
class ToolFailed extends Error {}

/**
 * Gates tool calls inside a LangGraph node: each call is proposed to Countersign (the idempotency key is its
 * tool-call id), and while any awaits review the node pauses with one `interrupt()` whose value is an
 * {@link ApprovalInterrupt} (approval id, tool, arguments, purpose, approvers, deadline, review URL).
 *
 * LangGraph runs a resumed node again from the start, so every proposal re-attaches to the same action, and
 * the decision is always read from the gateway: **the resume value is never a decision**. A graph resumed
 * with `{ decision: 'approve' }` by a UI (or anything else) only makes the node look again; a call the
 * gateway still holds pauses the node again with a new interrupt, and a denied one stays refused.
 *
 * Returns one ToolMessage per call, in order: an approved call runs once through guard() with the approved
 * (possibly edited) arguments, its receipt redeemed first and its result reported; a denied, expired or
 * cancelled one never runs and its error ToolMessage carries who refused it and why (the {@link Refusal} is
 * its `artifact`); a call that already ran (the node replayed from a checkpoint) returns what it reported
 * instead of running again; a tool that throws gives an error ToolMessage and its action ends failed.
 * Calls settle independently: one decided call runs while another still waits, and never runs again.
 *
 * Needs a checkpointer (LangGraph's rule for `interrupt()`), and a tool-call id on every call. `execute` must
 * not call `interrupt()` itself: guard() would report that pause as a failed run.
 *
 * @example
 * import { interruptForApproval } from '@countersign/sdk/langgraph';
 *
 * async function deployNode(state: typeof MessagesAnnotation.State) {
 *   const last = state.messages.at(-1) as AIMessage;
 *   const messages = await interruptForApproval(cs, last.tool_calls ?? [], (call) => runDeploy(call.args));
 *   return { messages };
 * }
 */
export async function interruptForApproval(
  client: Client,
  calls: ToolCall | readonly ToolCall[],
  execute: ExecuteCall,
  options: InterruptForApprovalOptions = {},
): Promise<ToolMessage[]> {
  const list = (Array.isArray(calls) ? calls : [calls]) as readonly ToolCall[];
  const messages = new Array<ToolMessage | undefined>(list.length);
  let open = list.map((call, i) => ({ call: withId(call), i }));
  for (;;) {
    const settled = await settleAll(open.map(({ call }) => settle(client, call, execute, options)));
    const still: typeof open = [];
    const approvals: PendingApproval[] = [];
    settled.forEach((s, k) => {
      const entry = open[k] as (typeof open)[number];
      if (s.kind === 'done') messages[entry.i] = s.message;
      else {
        still.push(entry);
        approvals.push(s.approval);
      }
    });
    if (still.length === 0) return messages as ToolMessage[];
    open = still;
    // Raises the interrupt, or, on a resumed run, returns the value it was resumed with. That value is not
    // read: it cannot approve anything, it only means "look again", which the next round does.
    interrupt<ApprovalInterrupt>({ type: 'countersign.approval_required', approvals });
  }
}

function withId(call: ToolCall): ToolCall & { id: string } {
  if (typeof call.id !== 'string' || call.id === '') {
    throw new CountersignError(
      'invalid_request',
      `the tool call "${call.name}" has no id: its approval could not be found again when the graph resumes`,
    );
  }
  return call as ToolCall & { id: string };
}

/** Waits for every call before failing: a call that is running its tool is never left unobserved. */
async function settleAll(pending: Promise<Settled>[]): Promise<Settled[]> {
  const results = await Promise.allSettled(pending);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<Settled>).value);
}

async function settle(
  client: Client,
  call: ToolCall & { id: string },
  execute: ExecuteCall,
  options: InterruptForApprovalOptions,
): Promise<Settled> {
  const described = describeCall(call, options);
  // 'pause': a pending call throws ApprovalPending at once, so the node can interrupt instead of holding the run open.
  const guardOptions: GuardOptions<ToolArgs> = { ...described, onPending: 'pause', onRefusal: 'return' };
  try {
    const outcome = await runGated(
      client,
      guardOptions,
      call.args,
      { toolCallId: call.id, ...(options.signal ? { signal: options.signal } : {}) },
      async (approved) => {
        try {
          return await execute({ ...call, args: approved });
        } catch (e) {
          throw new ToolFailed(e instanceof Error ? e.message : String(e));
        }
      },
    );
    switch (outcome.kind) {
      case 'ran':
        return { kind: 'done', message: resultMessage(outcome.result, call) };
      case 'refused':
        return { kind: 'done', message: refusalToolMessage(outcome.refusal, call) };
      case 'ran-before':
        return { kind: 'done', message: earlierResultMessage(outcome.output, call) };
    }
  } catch (e) {
    if (isApprovalPending(e)) {
      const [request] = e.requests;
      if (!request) throw e;
      return {
        kind: 'pending',
        approval: { ...request, tool_call_id: call.id, review_url: reviewUrl(client, options.reviewUrl, request.approval_id) },
      };
    }
    if (e instanceof ToolFailed) return { kind: 'done', message: errorMessage(call, e.message) };
    // It ran and failed in an earlier run of this node (the node is running again after a resume): the same answer.
    if (e instanceof CountersignError && e.code === 'failed') return { kind: 'done', message: errorMessage(call, reportedError(e)) };
    throw e;
  }
}

function resultMessage(result: unknown, call: ToolCall & { id: string }): ToolMessage {
  if (ToolMessage.isInstance(result)) return result;
  return new ToolMessage({
    content: typeof result === 'string' ? result : (JSON.stringify(result ?? null) ?? ''),
    tool_call_id: call.id,
    name: call.name,
    status: 'success',
  });
}

function errorMessage(call: ToolCall & { id: string }, text: string): ToolMessage {
  return new ToolMessage({ content: `Error: ${text}`, tool_call_id: call.id, name: call.name, status: 'error' });
}

/** What guard() reported when the tool failed: `{ error }`. */
function reportedError(e: CountersignError): string {
  const output = e.details?.output as { error?: unknown } | undefined;
  return typeof output?.error === 'string' ? output.error : e.message;
}
