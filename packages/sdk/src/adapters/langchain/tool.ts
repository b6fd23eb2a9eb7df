import type { CallbackManagerForToolRun } from '@langchain/core/callbacks/manager';
import type { ToolCall } from '@langchain/core/messages';
import { patchConfig } from '@langchain/core/runnables';
import { DynamicStructuredTool, type StructuredTool, ToolInputParsingException, type ToolRunnableConfig } from '@langchain/core/tools';
import type { Client } from '../../client.js';
import type { GuardOptions } from '../../guard.js';
import { earlierResultMessage, refusalToolMessage, runGated, type ToolArgs } from './shared.js';

/** Options for {@link withApproval}: everything {@link GuardOptions} takes; `tool` defaults to the LangChain tool's name. */
export type ToolApprovalOptions<A extends ToolArgs = ToolArgs> = Omit<GuardOptions<A>, 'tool'> & {
  /** The tool name policies see (default: the LangChain tool's `name`). */
  tool?: string;
};

/** Options for {@link withApprovals}: shared by every wrapped tool. */
export interface ToolsApprovalOptions extends Omit<ToolApprovalOptions, 'tool'> {
  /** Only the tools with these names are gated (default: all of them). */
  only?: readonly string[];
  /** Tools (by name) that are never gated, e.g. read-only ones. */
  except?: readonly string[];
  /** The tool name policies see, from the LangChain tool's name (default: the name itself). */
  toolName?: (name: string) => string;
}

/**
 * A gated tool: same name, description and schema. Invoked with a tool call it resolves to a ToolMessage
 * (the original's, or an error ToolMessage with the refusal); invoked with plain arguments, to the
 * original's output or the refusal text.
 */
export type ApprovalTool<T extends StructuredTool> =
  T extends StructuredTool<infer S, infer SO, infer SI, infer O> ? DynamicStructuredTool<S, SO, SI, O | string> : never;

/** A tool's input (what the model sends), as `resource`/`purpose`/`idempotencyKey` see it. */
export type LangChainToolArgs<T extends StructuredTool> =
  T extends StructuredTool<infer _S, infer _SO, infer SI> ? (SI extends ToolArgs ? SI : ToolArgs) : ToolArgs;

/**
 * Wraps one LangChain tool (`tool(fn, { name, schema })`, any StructuredTool) so each call goes through
 * Countersign before it runs.
 *
 * The call is proposed with the model's arguments (the idempotency key derived from the tool-call id, so a
 * restarted agent re-attaches to the same action) and waits for a decision. When approved, the receipt is
 * redeemed and the original tool is invoked with the **approved** arguments (the reviewer's edits, if any),
 * which its schema validates again: edited arguments that fail it are reported as a failed run and never
 * executed. The result is reported to the gateway and returned as usual. When denied, expired or cancelled,
 * the tool does not run and the model reads an error ToolMessage saying who refused it and why
 * ("Denied by alice@example.com: not during the freeze. The tool "deploy" was not run."); the
 * {@link Refusal} is its `artifact`.
 *
 * Gate a tool either here or with {@link countersignMiddleware}, not both: they share the idempotency key.
 *
 * @example
 * import { tool } from '@langchain/core/tools';
 * import { createAgent } from 'langchain';
 * import { z } from 'zod';
 * import { withApproval } from '@countersign/sdk/langchain';
 *
 * const deploy = withApproval(
 *   cs,
 *   tool(async ({ service, replicas }) => runDeploy(service, replicas), {
 *     name: 'deploy',
 *     description: 'Deploy a service',
 *     schema: z.object({ service: z.string(), replicas: z.number() }),
 *   }),
 *   { resource: (a) => `service:${a.service}` },
 * );
 * const agent = createAgent({ model, tools: [deploy] }); // each deploy call now waits for a person
 */
export function withApproval<T extends StructuredTool>(
  client: Client,
  tool: T,
  options: ToolApprovalOptions<LangChainToolArgs<T>> = {},
): ApprovalTool<T> {
  const guardOptions = { ...options, tool: options.tool ?? tool.name } as GuardOptions<ToolArgs>;

  const func = async (parsed: unknown, runManager?: CallbackManagerForToolRun, config?: ToolRunnableConfig): Promise<unknown> => {
    const call = config?.toolCall;
    const runConfig = patchConfig(config, { callbacks: runManager?.getChild() });
    const outcome = await runGated(
      client,
      guardOptions,
      proposedArgs(parsed, call),
      { toolCallId: call?.id, signal: config?.signal },
      (approved) => invokeWith(tool, approved, call, runConfig),
    );
    switch (outcome.kind) {
      case 'ran':
        return outcome.result;
      case 'refused':
        return call?.id ? refusalToolMessage(outcome.refusal, { id: call.id, name: tool.name }) : outcome.refusal.message;
      case 'ran-before':
        return call?.id ? earlierResultMessage(outcome.output, { id: call.id, name: tool.name }) : outcome.output;
    }
  };

  return new DynamicStructuredTool({
    name: tool.name,
    description: tool.description,
    schema: tool.schema,
    func,
    returnDirect: tool.returnDirect,
    verboseParsingErrors: tool.verboseParsingErrors,
    ...(tool.metadata ? { metadata: tool.metadata } : {}),
    ...(tool.extras ? { extras: tool.extras } : {}),
    ...(tool.tags ? { tags: tool.tags } : {}),
  }) as unknown as ApprovalTool<T>;
}

/**
 * Wraps an array of LangChain tools: every tool (or only those named in `only`, minus `except`) goes through
 * Countersign; the others are passed through untouched. The tool name policies see is the tool's name (or
 * `toolName(name)`).
 *
 * @example
 * import { createAgent } from 'langchain';
 * import { withApprovals } from '@countersign/sdk/langchain';
 *
 * const tools = withApprovals(cs, [deploy, dropTable, readLogs], { except: ['read_logs'], session_id: runId });
 * const agent = createAgent({ model, tools });
 */
export function withApprovals<const T extends readonly StructuredTool[]>(
  client: Client,
  tools: T,
  options: ToolsApprovalOptions = {},
): { [K in keyof T]: T[K] | ApprovalTool<T[K]> } {
  const { only, except, toolName = (name: string) => name, ...shared } = options;
  for (const name of only ?? []) {
    if (!tools.some((t) => t.name === name)) throw new TypeError(`withApprovals: "${name}" in \`only\` is not one of the tools`);
  }
  const gated = (t: StructuredTool) => (only ? only.includes(t.name) : true) && !except?.includes(t.name);
  return tools.map((t) => (gated(t) ? withApproval(client, t, { ...shared, tool: toolName(t.name) }) : t)) as unknown as {
    [K in keyof T]: T[K] | ApprovalTool<T[K]>;
  };
}

/**
 * The arguments to propose: the model's own (before the schema's transforms), so that a reviewer edits the
 * same shape the tool parses. A string-input tool called directly gets `{ input }`, as a model would send it.
 */
function proposedArgs(parsed: unknown, call: ToolCall | undefined): ToolArgs {
  if (call) return call.args;
  if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as ToolArgs;
  return { input: parsed };
}

/** Invokes the original tool with the approved arguments, through its own schema (so edits are validated). */
export async function invokeWith(
  tool: StructuredTool,
  approved: ToolArgs,
  call: ToolCall | undefined,
  config: ToolRunnableConfig,
): Promise<unknown> {
  try {
    const result: unknown = await tool.invoke(call ? { ...call, args: approved, type: 'tool_call' } : approved, config);
    return result;
  } catch (e) {
    // The model's arguments passed this same schema before they were proposed, so only an edit can fail it.
    if (e instanceof ToolInputParsingException) {
      throw new Error(`the approved arguments do not match the input schema of "${tool.name}": ${e.message}`);
    }
    throw e;
  }
}
