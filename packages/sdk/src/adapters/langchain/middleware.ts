import type { AgentMiddleware } from 'langchain';
import type { Client } from '../../client.js';
import { type CallProposalOptions, describeCall, earlierResultMessage, refusalToolMessage, runGated } from './shared.js';

/** A tool, by its name or as the tool object itself. */
export type ToolRef = string | { name: string };

/** Options for {@link countersignMiddleware}. */
export interface ApprovalMiddlewareOptions extends CallProposalOptions {
  /** Only calls to these tools are gated (default: every tool call). */
  tools?: readonly ToolRef[];
  /** Calls to these tools are never gated, e.g. read-only ones. */
  except?: readonly ToolRef[];
}

/** The middleware {@link countersignMiddleware} returns: it only wraps tool calls (no state, no context). */
export type ApprovalMiddleware = AgentMiddleware<undefined, undefined, unknown>;

const nameOf = (t: ToolRef) => (typeof t === 'string' ? t : t.name);

/**
 * Agent middleware for langchain 1.x `createAgent`: every gated tool call goes through Countersign.
 *
 * Its `wrapToolCall` hook proposes the call (the idempotency key derived from the tool-call id), waits for
 * the decision, redeems the receipt and then lets the agent run the tool with the **approved** arguments
 * (the reviewer's edits, if any; the tool's schema validates them, and a failure is reported as a failed
 * run). The result is reported to the gateway; a tool result with status `error` counts as failed. When
 * denied, expired or cancelled, the tool does not run and the model reads an error ToolMessage with the
 * refusal ("Denied by alice@example.com: not during the freeze. The tool "deploy" was not run."), whose
 * `artifact` is the {@link Refusal}. Parallel tool calls are proposed and decided independently.
 *
 * Calls are gated by name, whether or not the agent registered the tool, so a tool that another
 * middleware supplies at run time is not let through unreviewed. Errors from Countersign itself (gateway
 * unreachable, no decision within `timeout`) propagate: LangChain ends the run on a middleware error.
 *
 * @example
 * import { createAgent } from 'langchain';
 * import { createClient } from '@countersign/sdk';
 * import { countersignMiddleware } from '@countersign/sdk/langchain';
 *
 * const cs = createClient({ url: process.env.COUNTERSIGN_URL!, apiKey: process.env.COUNTERSIGN_KEY! });
 * const agent = createAgent({
 *   model,
 *   tools: [deploy, readLogs],
 *   middleware: [countersignMiddleware(cs, { except: [readLogs], resource: (args) => `service:${args.service}` })],
 * });
 */
export function countersignMiddleware(client: Client, options: ApprovalMiddlewareOptions = {}): ApprovalMiddleware {
  const only = options.tools?.map(nameOf);
  const except = options.except?.map(nameOf) ?? [];
  const gated = (name: string) => (only ? only.includes(name) : true) && !except.includes(name);

  const wrapToolCall: NonNullable<ApprovalMiddleware['wrapToolCall']> = async (request, handler) => {
    const { toolCall } = request;
    if (!gated(toolCall.name)) return handler(request);
    const outcome = await runGated(
      client,
      { ...describeCall(toolCall, options), timeout: options.timeout },
      toolCall.args,
      { toolCallId: toolCall.id, signal: request.runtime.signal },
      async (approved) => handler({ ...request, toolCall: { ...toolCall, args: approved } }),
    );
    switch (outcome.kind) {
      case 'ran':
        return outcome.result;
      case 'refused':
        return refusalToolMessage(outcome.refusal, toolCall);
      case 'ran-before':
        return earlierResultMessage(outcome.output, toolCall);
    }
  };

  return { name: 'CountersignMiddleware', wrapToolCall };
}
