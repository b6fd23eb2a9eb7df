import { AIMessage, type BaseMessage, type ToolCall, ToolMessage } from '@langchain/core/messages';
import type { RunnableConfig } from '@langchain/core/runnables';
import type { StructuredTool } from '@langchain/core/tools';
import type { Client } from '../../client.js';
import { invokeWith } from '../langchain/tool.js';
import { type InterruptForApprovalOptions, interruptForApproval } from './interrupt-for-approval.js';

/** Options for {@link approvalNode}. */
export interface ApprovalNodeOptions extends InterruptForApprovalOptions {
  /** Calls to these tools (by name) run without approval, e.g. read-only ones. */
  except?: readonly string[];
}

/** What the node accepts: the graph state with its `messages`, or one call sent to it with `Send` (as ToolNode takes it). */
export type ApprovalNodeInput = { messages: BaseMessage[] } | ({ lg_tool_call: ToolCall } & Record<string, unknown>);

/** The node: the ToolMessages of the calls it settled, for a `messages` channel. */
export type ApprovalNode = (input: ApprovalNodeInput, config?: RunnableConfig) => Promise<{ messages: ToolMessage[] }>;

/**
 * A drop-in for LangGraph's `ToolNode` whose tool calls go through Countersign: the calls of the last AI
 * message (or the one call a `Send` gives it) are proposed, the node pauses with an `interrupt()` while any
 * awaits review, and each call then runs once with the approved (possibly edited) arguments, validated by the
 * tool's own schema, or answers the model with the refusal. See {@link interruptForApproval} for the rules.
 *
 * Given the whole message, one interrupt lists every call still under review; fanned out with `Send` (one
 * call per task), each call gets its own interrupt, and {@link resumeFromCountersign} answers them all with
 * one `Command`. Calls named in `except` run without approval, after the gated ones have settled, so a
 * node that pauses never runs them twice. Calls already answered by a ToolMessage are skipped, as ToolNode
 * does; a call to a tool the node does not have is answered with an error and never proposed.
 *
 * @example
 * import { END, MemorySaver, MessagesAnnotation, START, StateGraph } from '@langchain/langgraph';
 * import { toolsCondition } from '@langchain/langgraph/prebuilt';
 * import { approvalNode } from '@countersign/sdk/langgraph';
 *
 * const graph = new StateGraph(MessagesAnnotation)
 *   .addNode('agent', callModel)
 *   .addNode('tools', approvalNode(cs, [deploy, readLogs], { except: ['read_logs'] })) // was: new ToolNode([deploy, readLogs])
 *   .addEdge(START, 'agent')
 *   .addConditionalEdges('agent', toolsCondition, ['tools', END])
 *   .addEdge('tools', 'agent')
 *   .compile({ checkpointer: new MemorySaver() });
 */
export function approvalNode(client: Client, tools: readonly StructuredTool[], options: ApprovalNodeOptions = {}): ApprovalNode {
  const { except = [], ...gateOptions } = options;
  const byName = new Map(tools.map((t) => [t.name, t]));
  return async (input, config = {}) => {
    const calls = callsOf(input);
    const results = new Map<ToolCall, ToolMessage>();
    const known = calls.filter((call) => {
      if (byName.has(call.name)) return true;
      results.set(call, notFound(call));
      return false;
    });
    const gated = known.filter((call) => !except.includes(call.name));
    const invoke = (call: ToolCall) => invokeWith(byName.get(call.name) as StructuredTool, call.args, call, config);
    const settled = await interruptForApproval(client, gated, invoke, gateOptions);
    for (const [i, call] of gated.entries()) results.set(call, settled[i] as ToolMessage);
    // Only now: a node that paused above runs again from the start on resume, and these must run once.
    const free = known.filter((call) => except.includes(call.name));
    const ran = await Promise.all(
      free.map((call) =>
        invoke(call).then(
          (r) => asMessage(r, call),
          (e: unknown) => failed(e, call),
        ),
      ),
    );
    for (const [i, call] of free.entries()) results.set(call, ran[i] as ToolMessage);
    return { messages: calls.map((call) => results.get(call) as ToolMessage) };
  };
}

function callsOf(input: ApprovalNodeInput): ToolCall[] {
  if ('lg_tool_call' in input) return [input.lg_tool_call];
  const messages = input.messages;
  const answered = new Set(messages.filter((m) => ToolMessage.isInstance(m)).map((m) => m.tool_call_id));
  const last = [...messages].reverse().find((m) => AIMessage.isInstance(m));
  if (!last) throw new TypeError('approvalNode: the state holds no AI message whose tool calls it could run');
  return (last.tool_calls ?? []).filter((c) => c.id === undefined || !answered.has(c.id));
}

function notFound(call: ToolCall): ToolMessage {
  return new ToolMessage({
    content: `Error: Tool "${call.name}" not found.`,
    tool_call_id: call.id ?? '',
    name: call.name,
    status: 'error',
  });
}

/** As ToolNode answers a tool that throws: the model reads the error. */
function failed(e: unknown, call: ToolCall): ToolMessage {
  const text = e instanceof Error ? e.message : String(e);
  return new ToolMessage({ content: `Error: ${text}`, tool_call_id: call.id ?? '', name: call.name, status: 'error' });
}

function asMessage(result: unknown, call: ToolCall): ToolMessage {
  if (ToolMessage.isInstance(result)) return result;
  return new ToolMessage({
    content: typeof result === 'string' ? result : JSON.stringify(result),
    tool_call_id: call.id ?? '',
    name: call.name,
  });
}
