import { type ToolCall, ToolMessage } from '@langchain/core/messages';
import type { Client } from '../../client.js';
import { type CallContext, type GuardOptions, guard, isRefusal, type Refusal } from '../../guard.js';
import type { ProposedAction } from '../../types.js';

/** A tool call's arguments, as Countersign sees them. */
export type ToolArgs = Record<string, unknown>;

/** A value fixed for every call, or computed from the call's arguments and the call itself (its `name`, `id`). */
export type PerCall<T> = T | ((args: ToolArgs, call: ToolCall) => T | undefined);

/**
 * How a tool call is described to Countersign, shared by {@link countersignMiddleware} and {@link answerHitlInterrupt}.
 *
 * @example
 * const options: CallProposalOptions = {
 *   toolName: (name) => `shop.${name}`,
 *   resource: (args, call) => (call.name === 'refund' ? `order:${String(args.orderId)}` : undefined),
 *   annotations: (_args, call) => (call.name.startsWith('get_') ? { readOnlyHint: true } : undefined),
 *   session_id: runId,
 * };
 */
export interface CallProposalOptions {
  /** The tool name policies see, from the LangChain tool name (default: the name itself). */
  toolName?: (name: string) => string;
  resource?: PerCall<string>;
  purpose?: PerCall<string>;
  annotations?: PerCall<NonNullable<ProposedAction['annotations']>>;
  session_id?: PerCall<string>;
  parent_id?: PerCall<string>;
  on_behalf_of?: PerCall<string>;
  metadata?: PerCall<Record<string, unknown>>;
  /** Longest wait for a decision, in ms (default: until the gateway decides or the action expires). */
  timeout?: number;
}

const PER_CALL_FIELDS = ['resource', 'purpose', 'annotations', 'session_id', 'parent_id', 'on_behalf_of', 'metadata'] as const;

/** The proposal for a tool call, without its arguments (they are what the caller proposes or guard passes). */
export function describeCall(call: ToolCall, opts: CallProposalOptions): Omit<ProposedAction, 'arguments'> {
  const described: Omit<ProposedAction, 'arguments'> = { tool: opts.toolName ? opts.toolName(call.name) : call.name };
  for (const field of PER_CALL_FIELDS) {
    const option = opts[field];
    const value = typeof option === 'function' ? option(call.args, call) : option;
    if (value !== undefined) (described as Record<string, unknown>)[field] = value;
  }
  return described;
}

/** The idempotency key guard() derives from a tool-call id: the wrapper, the middleware and the HITL helper agree on it. */
export const toolCallKey = (tool: string, toolCallId: string): string => `tool-call:${tool}:${toolCallId}`;

/** How a gated call ended. */
export type GatedOutcome<R> =
  | { kind: 'ran'; result: R }
  | { kind: 'refused'; refusal: Refusal }
  /** An earlier incarnation of the agent already ran it: `output` is what it reported; it is not run again. */
  | { kind: 'ran-before'; output: unknown };

/** Carries a tool's own error result through guard(), so it is reported as `failed` yet still reaches the model. */
class ToolReportedError extends Error {}

/**
 * Runs `exec` through guard(): propose, wait, redeem, run with the approved arguments, report. A ToolMessage
 * result is reported by its content (what the model reads), and as `failed` when its status is `error`.
 */
export async function runGated<R>(
  client: Client,
  opts: GuardOptions<ToolArgs>,
  args: ToolArgs,
  ctx: CallContext,
  exec: (approved: ToolArgs) => Promise<R>,
): Promise<GatedOutcome<R>> {
  // guard() returns what is reported (JSON), so the framework's own result object is kept aside here.
  const ran: { result: R }[] = [];
  const gated = guard(
    client,
    async (approved: ToolArgs) => {
      const result = await exec(approved);
      ran.push({ result });
      if (ToolMessage.isInstance(result) && result.status === 'error') throw new ToolReportedError(textOf(result.content));
      return ToolMessage.isInstance(result) ? result.content : result;
    },
    opts,
  );
  let out: unknown;
  try {
    out = await gated(args, ctx);
  } catch (e) {
    if (!(e instanceof ToolReportedError)) throw e;
  }
  const first = ran[0];
  if (first) return { kind: 'ran', result: first.result };
  return isRefusal(out) ? { kind: 'refused', refusal: out } : { kind: 'ran-before', output: out };
}

/** What the model reads for a refused call: an error ToolMessage; the whole {@link Refusal} rides along as its artifact. */
export function refusalToolMessage(refusal: Refusal, call: Pick<ToolCall, 'id' | 'name'>): ToolMessage {
  return new ToolMessage({ content: refusal.message, tool_call_id: call.id ?? '', name: call.name, status: 'error', artifact: refusal });
}

/** The result an earlier incarnation reported, as the ToolMessage the model would have read. */
export function earlierResultMessage(output: unknown, call: Pick<ToolCall, 'id' | 'name'>): ToolMessage {
  return new ToolMessage({ content: textOf(output), tool_call_id: call.id ?? '', name: call.name, status: 'success' });
}

function textOf(content: unknown): string {
  return typeof content === 'string' ? content : (JSON.stringify(content ?? null) ?? '');
}
