import {
  type FunctionTool,
  RunContext,
  type ToolExecuteArgument,
  type ToolInputParameters,
  type ToolOptions,
  type ToolOutputSchema,
  tool,
  type UnknownContext,
} from '@openai/agents';
import canonicalizeImpl from 'canonicalize';
import type { Client } from '../../client.js';
import { type GuardOptions, guard, isRefusal } from '../../guard.js';
import { type Arguments, callKey, createGate, GATE, type Gate, isArguments, type ProposalOptions, parseArguments } from './gate.js';

/**
 * How a call held for review is handled:
 * - `'interrupt'` (default): `needsApproval` answers true, so the run ends with an interruption; decide it with
 *   {@link resolveInterruptions} and resume the run (also from a serialized `RunState`, in another process);
 * - `'wait'`: no interruption; the call itself waits for the decision inside the run (a `timeoutMs` on the
 *   tool then covers the wait too).
 */
export type ApprovalToolMode = 'interrupt' | 'wait';

/**
 * Options for {@link approvalTool}: what Countersign is told about each call, plus {@link ApprovalToolMode}.
 * `resource` and `purpose` functions receive the call's arguments as the model sent them (before the
 * schema's defaults or transforms), the same object a reviewer sees and may edit.
 *
 * @example
 * const options: ApprovalToolOptions<{ service: string }> = {
 *   tool: 'deploy',
 *   resource: (a) => `service:${a.service}`,
 *   annotations: { destructiveHint: true },
 * };
 */
export interface ApprovalToolOptions<A extends Arguments = Arguments> extends ProposalOptions<A>, Pick<GuardOptions<A>, 'timeout'> {
  /** The tool name policies see (default: the tool's name, as the model sees it). */
  tool?: string;
  /** See {@link ApprovalToolMode} (default `'interrupt'`). */
  mode?: ApprovalToolMode;
}

/**
 * A tool's arguments as `resource`/`purpose` see them: the schema's type when it describes an object.
 *
 * @example
 * type DeployArgs = ApprovalToolArgs<typeof deploySchema>; // { service: string; replicas: number }
 */
export type ApprovalToolArgs<TParameters extends ToolInputParameters> =
  ToolExecuteArgument<TParameters> extends Arguments ? ToolExecuteArgument<TParameters> : Arguments;

/**
 * The function tool {@link approvalTool} returns: exactly what `tool()` returns for the same options.
 *
 * @example
 * const deploy: ApprovalTool<typeof deploySchema> = approvalTool(cs, { name: 'deploy', description, parameters: deploySchema, execute });
 */
export type ApprovalTool<
  TParameters extends ToolInputParameters = undefined,
  Context = UnknownContext,
  Result = string,
  TOutputSchema extends ToolOutputSchema | undefined = undefined,
> = ReturnType<typeof tool<TParameters, Context, Result, TOutputSchema>>;

type ToolCallDetails = NonNullable<Parameters<FunctionTool['invoke']>[2]>;
type Execute = (input: unknown, runContext?: RunContext<unknown>, details?: ToolCallDetails) => unknown;
/** The options of `tool()` as this module reads them; the public signature keeps the framework's own types. */
interface LooseToolOptions {
  name?: string;
  description: string;
  parameters?: unknown;
  strict?: boolean;
  outputSchema?: unknown;
  needsApproval?: unknown;
  execute: Execute;
}
type ArgumentParser = (args: Arguments, runContext: RunContext<unknown> | undefined) => Promise<unknown>;

const canonicalize = canonicalizeImpl as unknown as (value: unknown) => string | undefined;

/**
 * `tool()` from `@openai/agents`, with each call approved through Countersign.
 *
 * Takes the same options as `tool()` (without `needsApproval`: the Countersign policy decides which calls
 * need a person). Each call is proposed from `needsApproval`, keyed by the call id (`tool-call:<tool>:<callId>`),
 * so every later look-up of the call, in this process or a restarted one, finds the same action (call ids
 * must therefore be unique per agent key, as OpenAI's are; a model that reuses ids across runs would re-attach
 * to the earlier call's action):
 * - approved at once by a policy rule or a standing grant: no interruption, the call runs;
 * - held for review: the run ends with an interruption (see {@link ApprovalToolMode} for the alternative);
 *   decide it with {@link resolveInterruptions} and resume the run;
 * - denied at once: no interruption; the model reads who refused it and why instead of the tool's output.
 *
 * When the call runs, the receipt is redeemed first and `execute` receives the **approved** arguments: a
 * reviewer's edits are parsed by the tool's own schema, exactly as the model's arguments would have been
 * (edits that fail it are reported as a failed run and never executed). The result is reported to Countersign.
 * A call that already ran (a resumed run replayed, a restarted process) returns the recorded output instead
 * of running twice. Approving an interruption in the run state alone does not bypass Countersign: the call
 * still waits for Countersign's decision before it runs.
 *
 * A refusal reaches the model as the tool's output ("Denied by alice@example.com: not during the freeze. The
 * tool "deploy" was not run."); a tool with an `outputSchema` throws `ApprovalRefused` instead, for its
 * `errorFunction` to turn into a schema-compatible output.
 *
 * @example
 * import { Agent, run } from '@openai/agents';
 * import { z } from 'zod';
 * import { approvalTool, resolveInterruptions } from '@countersign/sdk/openai-agents';
 *
 * const deploy = approvalTool(
 *   cs,
 *   {
 *     name: 'deploy',
 *     description: 'Deploy a service',
 *     parameters: z.object({ service: z.string(), replicas: z.number() }),
 *     execute: async ({ service, replicas }) => runDeploy(service, replicas),
 *   },
 *   { resource: (a) => `service:${a.service}` },
 * );
 * const agent = new Agent({ name: 'ops', tools: [deploy] });
 * const result = await run(agent, 'Deploy api');
 * await resolveInterruptions(result);
 * await run(agent, result.state);
 */
export function approvalTool<
  TParameters extends ToolInputParameters = undefined,
  Context = UnknownContext,
  Result = string,
  TOutputSchema extends ToolOutputSchema | undefined = undefined,
>(
  client: Client,
  options: ToolOptions<TParameters, Context, TOutputSchema>,
  approval: ApprovalToolOptions<ApprovalToolArgs<TParameters>> = {},
): ApprovalTool<TParameters, Context, Result, TOutputSchema> {
  const loose = options as unknown as LooseToolOptions;
  if (loose.needsApproval !== undefined) {
    throw new TypeError('approvalTool: leave out needsApproval; the Countersign policy decides which calls need a person');
  }
  const { tool: toolName, mode = 'interrupt', timeout, ...proposal } = approval;
  const parse = argumentParser(loose);
  const gate = createGate(client, toolName ?? parse.name, proposal as ProposalOptions);
  const guardOptions: GuardOptions<Arguments> = {
    ...(proposal as ProposalOptions),
    tool: gate.tool,
    idempotencyKey: (_args, ctx) => (ctx.toolCallId === undefined ? undefined : callKey(gate.tool, ctx.toolCallId)),
    onRefusal: loose.outputSchema === undefined ? 'return' : 'throw',
    ...(timeout === undefined ? {} : { timeout }),
  };
  const built = tool({
    ...loose,
    ...(mode === 'interrupt' ? { needsApproval: heldForReview(gate) } : {}),
    execute: gatedExecute(gate, loose.execute, parse.parse, guardOptions),
  } as unknown as ToolOptions<TParameters, Context, TOutputSchema>) as ApprovalTool<TParameters, Context, Result, TOutputSchema>;
  return Object.assign(
    {
      ...built,
      // The runner pre-parses a call's arguments only for the invoke that tool() registered, and then hands
      // needsApproval the schema's normalized value. Behind this wrapper, needsApproval gets the arguments as
      // the model sent them: all an interruption carries after a restart, hence what every proposal uses.
      invoke: (runContext: RunContext<Context>, input: string, details?: ToolCallDetails) => built.invoke(runContext, input, details),
    },
    { [GATE]: gate },
  );
}

/** needsApproval: true while the call awaits review; false once decided (the execute path acts on the decision). */
function heldForReview(gate: Gate) {
  return async (_runContext: RunContext<unknown>, input: unknown, callId?: string): Promise<boolean> => {
    if (callId === undefined) throw new Error(`the runner gave no call id for "${gate.tool}", so its approval cannot be tracked`);
    if (!isArguments(input)) throw new TypeError(`the arguments of "${gate.tool}" are not a JSON object`);
    const action = await gate.propose(input, callId);
    return action.status === 'pending';
  };
}

/** execute: guard() around the tool's own execute, so the at-most-once rules are the SDK's everywhere. */
function gatedExecute(gate: Gate, execute: Execute, parse: ArgumentParser, guardOptions: GuardOptions<Arguments>): Execute {
  return async (input, runContext, details) => {
    const proposed = proposedArguments(gate, input, details);
    const guarded = guard(
      gate.client,
      async (approved: Arguments) => {
        const args = canonicalize(approved) === canonicalize(proposed) ? input : await parse(approved, runContext);
        return execute(args, runContext, details);
      },
      guardOptions,
    );
    const callId = details?.toolCall?.callId;
    const out = await guarded(proposed, {
      ...(callId === undefined ? {} : { toolCallId: callId }),
      ...(details?.signal ? { signal: details.signal } : {}),
    });
    return isRefusal(out) ? out.message : out;
  };
}

/** The same arguments needsApproval proposed: the model's raw ones when the runner passed the call along. */
function proposedArguments(gate: Gate, input: unknown, details: ToolCallDetails | undefined): Arguments {
  const raw = details?.toolCall?.arguments;
  const args = raw ? parseArguments(raw) : isArguments(input) ? input : undefined;
  if (!args) throw new TypeError(`the arguments of "${gate.tool}" are not a JSON object`);
  return args;
}

/**
 * Parses arguments with the tool's own schema, through a twin tool that returns its input: edited arguments
 * then reach `execute` exactly as the model's would (defaults, transforms, strict-mode nulls), parsed once.
 * Its `name` is the tool's name as the model sees it.
 */
function argumentParser(options: LooseToolOptions): { name: string; parse: ArgumentParser } {
  const twin = tool({
    name: options.name ?? options.execute.name,
    description: options.description,
    parameters: options.parameters,
    ...(options.strict === undefined ? {} : { strict: options.strict }),
    execute: (input: unknown) => input,
    errorFunction: null,
  } as unknown as ToolOptions<undefined>);
  const parse: ArgumentParser = async (args, runContext) => {
    try {
      return await twin.invoke(runContext ?? new RunContext(), JSON.stringify(args));
    } catch (e) {
      throw new Error(`the approved arguments do not match the parameters of "${twin.name}": ${describe(e)}`);
    }
  };
  return { name: twin.name, parse };
}

/** The framework wraps schema failures; the schema's own message (unless redacted) says what is wrong. */
function describe(e: unknown): string {
  const cause = (e as { originalError?: unknown }).originalError;
  return cause instanceof Error ? cause.message : e instanceof Error ? e.message : String(e);
}
