/**
 * Countersign for the Vercel AI SDK (`ai` 6 and 7): put human approval in front of `tool({...})` calls.
 *
 * Import from `@countersign/sdk/ai-sdk`; `ai` is an optional peer dependency of the SDK. One adapter serves
 * both majors: the parts it uses (`tool()`'s `execute`, `toModelOutput`, `needsApproval`, the
 * `execution-denied` output and the `tool-approval-request` / `tool-approval-response` parts) have the same
 * shape in both.
 *
 * @example
 * import { generateText, stepCountIs, tool } from 'ai';
 * import { createClient } from '@countersign/sdk';
 * import { withApprovals } from '@countersign/sdk/ai-sdk';
 *
 * const cs = createClient({ url: process.env.COUNTERSIGN_URL!, apiKey: process.env.COUNTERSIGN_KEY! });
 * const tools = withApprovals(cs, { deploy, readLogs }, { only: ['deploy'] });
 * await generateText({ model, tools, stopWhen: stepCountIs(5), prompt: 'Ship it' });
 */
import { asSchema, type Tool, type ToolExecutionOptions, type ToolSet } from 'ai';
import canonicalizeImpl from 'canonicalize';
import type { Client } from '../client.js';
import { type GuardOptions, guard, isRefusal, type Refusal } from '../guard.js';
import { type Arguments, createGate, GATE, type Gate, isArguments } from './ai-sdk/gate.js';
import { withApprovedAction } from './approved-action.js';

export {
  type ResolveToolApprovalsOptions,
  resolveToolApprovals,
  type ToolApprovalResolution,
} from './ai-sdk/approval-requests.js';
export { approvedAction } from './approved-action.js';

/**
 * How a call held for review is handled:
 * - `'wait'` (default): the tool's `execute` waits for the decision, inside the generation;
 * - `'approval-request'`: the tool's `needsApproval` asks the AI SDK for approval while Countersign holds the
 *   call, so generation stops with a `tool-approval-request` part (a call the policy decides at once never
 *   stops); answer it with {@link resolveToolApprovals} and generate again.
 */
export type ToolApprovalMode = 'wait' | 'approval-request';

/** Options for {@link withApproval}: everything {@link GuardOptions} takes, plus how the model reads a refusal. */
export interface ToolApprovalOptions<A extends Record<string, unknown>> extends GuardOptions<A> {
  /**
   * What the model reads when the call was not approved:
   * - `'execution-denied'` (default): the AI SDK's own denied-tool result, with the refusal message as its reason
   *   ("Denied by alice@example.com: not during the freeze. The tool "deploy" was not run.");
   * - `'text'`: the refusal message as plain text;
   * - `'json'`: the whole {@link Refusal} object.
   */
  refusalOutput?: 'execution-denied' | 'text' | 'json';
  /** See {@link ToolApprovalMode} (default `'wait'`). */
  mode?: ToolApprovalMode;
  /**
   * When a reviewer edited the arguments, check them against the tool's `inputSchema` before running
   * (default `true`). Edited arguments that fail the schema are reported as a failed run and never executed.
   */
  validateEditedArguments?: boolean;
}

/** Options for {@link withApprovals}: shared by every wrapped tool. */
export interface ToolsApprovalOptions extends Omit<ToolApprovalOptions<Record<string, unknown>>, 'tool'> {
  /** Only these tools (by their key in the record) are gated; default: every tool that has an `execute`. */
  only?: readonly string[];
  /** Tools (by key) that are never gated, e.g. read-only ones. */
  except?: readonly string[];
  /** The tool name policies see, from its key in the record (default: the key itself). */
  toolName?: (key: string) => string;
}

/** A gated tool: same schema; its output is the original output, or a {@link Refusal} when not approved. */
export type ApprovalTool<T extends Tool> = T extends Tool<infer I, infer O> ? Tool<I, O | Refusal> : never;

/** A tool's input, as `resource`/`purpose`/`idempotencyKey` see it. */
export type ToolArgs<T extends Tool> =
  T extends Tool<infer I, infer _O> ? (I extends Record<string, unknown> ? I : Record<string, unknown>) : never;

/** A record of tools after {@link withApprovals}: gated ones may also resolve to a {@link Refusal}. */
export type ApprovalTools<T extends ToolSet> = { [K in keyof T]: ApprovalTool<T[K]> };

type AnyExecute = (input: unknown, options: ToolExecutionOptions) => unknown;
/** What a tool result looks like to the model (`ai` does not re-export the type). */
export type ToolResultOutput = Awaited<ReturnType<NonNullable<Tool['toModelOutput']>>>;
const canonicalize = canonicalizeImpl as unknown as (value: unknown) => string | undefined;

/**
 * Wraps one AI SDK tool so each call goes through Countersign before it runs.
 *
 * The call is proposed (its idempotency key derived from the `toolCallId`, so a restarted agent
 * re-attaches to the same action), then waits for a decision. When approved, the receipt is redeemed
 * and the original `execute` runs with the **approved** arguments (the reviewer's edits, if any); its
 * result is reported to the gateway and returned to the model as usual. When denied, expired or
 * cancelled, the tool does not run and the model reads who refused it and why.
 *
 * A streaming `execute` (an async iterable of preliminary results) is drained: only its last value is
 * returned and reported.
 *
 * @example
 * import { tool } from 'ai';
 * import { z } from 'zod';
 * import { withApproval } from '@countersign/sdk/ai-sdk';
 *
 * const deploy = withApproval(
 *   cs,
 *   tool({
 *     description: 'Deploy a service',
 *     inputSchema: z.object({ env: z.string(), replicas: z.number() }),
 *     execute: async ({ env, replicas }) => runDeploy(env, replicas),
 *   }),
 *   { tool: 'deploy', resource: (a) => `env:${a.env}` },
 * );
 * // generateText({ model, tools: { deploy }, ... }) — each deploy call now waits for a person.
 */
export function withApproval<T extends Tool>(client: Client, tool: T, options: ToolApprovalOptions<ToolArgs<T>>): ApprovalTool<T> {
  const execute = tool.execute as AnyExecute | undefined;
  if (typeof execute !== 'function') {
    throw new TypeError(`withApproval: the tool "${options.tool}" has no execute function, so there is nothing to gate`);
  }
  const { refusalOutput = 'execution-denied', validateEditedArguments = true, mode = 'wait', ...guardOptions } = options;
  if (mode === 'approval-request' && tool.needsApproval !== undefined) {
    throw new TypeError(
      `withApproval: leave out needsApproval on "${options.tool}"; the Countersign policy decides which calls need a person`,
    );
  }
  const schema = tool.inputSchema === undefined ? undefined : asSchema(tool.inputSchema);
  const originalToModelOutput = tool.toModelOutput as
    | ((o: { toolCallId: string; input: unknown; output: unknown }) => ToolResultOutput | PromiseLike<ToolResultOutput>)
    | undefined;

  const gatedExecute = async (input: unknown, execOptions: ToolExecutionOptions): Promise<unknown> => {
    const args = (input ?? {}) as ToolArgs<T>;
    const run = guard(
      client,
      async (approved: ToolArgs<T>, ctx) => {
        // The tool reads its action with approvedAction(options), e.g. as the parent_id of a subagent's calls.
        const options = ctx.action ? withApprovedAction(execOptions, ctx.action) : execOptions;
        let runWith: unknown = approved;
        if (validateEditedArguments && schema?.validate && canonicalize(approved) !== canonicalize(args)) {
          const checked = await schema.validate(approved);
          if (!checked.success) throw new Error(`the approved arguments do not match the tool's input schema: ${checked.error.message}`);
          runWith = checked.value;
        }
        return drain(await execute(runWith, options));
      },
      guardOptions,
    );
    return run(args, { toolCallId: execOptions.toolCallId, ...(execOptions.abortSignal ? { signal: execOptions.abortSignal } : {}) });
  };

  const toModelOutput = async (o: { toolCallId: string; input: unknown; output: unknown }): Promise<ToolResultOutput> => {
    if (isRefusal(o.output)) return refusalToModelOutput(o.output, refusalOutput);
    if (originalToModelOutput) return originalToModelOutput(o);
    return typeof o.output === 'string' ? { type: 'text', value: o.output } : { type: 'json', value: (o.output ?? null) as never };
  };

  if (mode === 'wait') return { ...tool, execute: gatedExecute, toModelOutput } as unknown as ApprovalTool<T>;
  const gate = createGate(client, guardOptions as GuardOptions<Arguments>);
  return { ...tool, execute: gatedExecute, toModelOutput, needsApproval: heldForReview(gate), [GATE]: gate } as unknown as ApprovalTool<T>;
}

/**
 * needsApproval: proposes the call (without redeeming: `execute` redeems when it runs) and asks the SDK for
 * approval when Countersign held it for review: still pending, or decided by a person since. Decided at once
 * (a rule, a grant), the call goes straight to `execute`, which runs it or hands the model the refusal.
 * A call a person approved must still answer true: `ai` 6 asks again when generation resumes and turns an
 * approval for a call that "does not require approval" into a denial.
 */
function heldForReview(gate: Gate) {
  return async (input: unknown, options: { toolCallId: string }): Promise<boolean> => {
    input ??= {}; // as gatedExecute proposes a call without arguments
    if (!isArguments(input)) throw new TypeError(`the arguments of "${gate.tool}" are not a JSON object`);
    const action = await gate.propose(input, options.toolCallId);
    return action.status === 'pending' || action.decided_by?.type === 'user';
  };
}

/**
 * Wraps a whole `tools` record: every tool with an `execute` (or only those named in `only`, minus
 * `except`) goes through Countersign; the others are passed through untouched. The tool name policies
 * see is the record key (or `toolName(key)`).
 *
 * @example
 * import { generateText, stepCountIs } from 'ai';
 * import { withApprovals } from '@countersign/sdk/ai-sdk';
 *
 * const tools = withApprovals(cs, { deploy, dropTable, readLogs }, { except: ['readLogs'], session_id: runId });
 * const result = await generateText({ model, tools, stopWhen: stepCountIs(5), prompt });
 */
export function withApprovals<T extends ToolSet>(client: Client, tools: T, options: ToolsApprovalOptions = {}): ApprovalTools<T> {
  const { only, except, toolName = (k: string) => k, ...shared } = options;
  for (const name of only ?? []) {
    if (!(name in tools)) throw new TypeError(`withApprovals: "${name}" in \`only\` is not one of the tools`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, t] of Object.entries(tools)) {
    const gated = (only ? only.includes(key) : typeof t.execute === 'function') && !except?.includes(key);
    out[key] = gated ? withApproval(client, t as Tool, { ...shared, tool: toolName(key) }) : t;
  }
  return out as ApprovalTools<T>;
}

/** The tool result part the model reads for a refusal. */
export function refusalToModelOutput(
  refusal: Refusal,
  mode: ToolApprovalOptions<Record<string, unknown>>['refusalOutput'] = 'execution-denied',
): ToolResultOutput {
  switch (mode) {
    case 'text':
      return { type: 'text', value: refusal.message };
    case 'json':
      return { type: 'json', value: { ...refusal } };
    default:
      return { type: 'execution-denied', reason: refusal.message };
  }
}

async function drain(v: unknown): Promise<unknown> {
  if (v === null || typeof v !== 'object' || !(Symbol.asyncIterator in v)) return v;
  let last: unknown;
  for await (const part of v as AsyncIterable<unknown>) last = part;
  return last;
}
