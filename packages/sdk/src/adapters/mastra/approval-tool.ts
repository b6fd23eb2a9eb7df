import canonicalizeImpl from 'canonicalize';
import type { Client } from '../../client.js';
import { type GuardOptions, guard, guardKey, guardProposal, isRefusal } from '../../guard.js';
import type { Action } from '../../types.js';
import { withApprovedAction } from '../approved-action.js';

/** A call's arguments as Countersign sees them: the JSON object the tool received. */
export type Arguments = Record<string, unknown>;

/**
 * What this adapter reads of a Mastra tool (`createTool()` from `@mastra/core/tools`). Structural, so the SDK
 * neither imports nor depends on `@mastra/core`; the tool you pass is returned with its own type.
 */
export interface MastraToolLike {
  id: string;
  execute?: (input: never, context: never) => unknown;
  requireApproval?: unknown;
  inputSchema?: unknown;
}

/** The part of a Mastra tool's execution context this adapter reads. */
interface ExecutionContext {
  agent?: { toolCallId?: string };
  abortSignal?: AbortSignal;
}

/** A Standard Schema (zod 3.24+/4, valibot, arktype…), as Mastra's `inputSchema` is. */
interface StandardSchema {
  '~standard': {
    validate(
      value: unknown,
    ):
      | { value?: unknown; issues?: readonly { message: string }[] }
      | PromiseLike<{ value?: unknown; issues?: readonly { message: string }[] }>;
  };
}

/**
 * Options for {@link withApproval}: what Countersign is told about each call (everything `guard()` takes but the
 * tool name, which defaults to the tool's `id`).
 *
 * @example
 * const options: MastraApprovalOptions<{ service: string }> = { resource: (a) => `service:${a.service}` };
 */
export interface MastraApprovalOptions<A extends Arguments = Arguments>
  extends Omit<GuardOptions<A>, 'tool' | 'onPending' | 'resumable' | 'idempotencyKey'> {
  /** The tool name policies see (default: the tool's `id`). */
  tool?: string;
  /**
   * When a reviewer edited the arguments, check them against the tool's `inputSchema` before running
   * (default `true`). Edited arguments that fail it are reported as a failed run and never executed.
   */
  validateEditedArguments?: boolean;
}

const canonicalize = canonicalizeImpl as unknown as (value: unknown) => string | undefined;

/** Where a gated tool keeps its gate; a symbol survives copies of the tool object (`{ ...tool }`). */
export const GATE: unique symbol = Symbol.for('@countersign/sdk/mastra/gate');

/** The Countersign side of one gated tool, shared by its `execute` and {@link answerToolApprovals}. */
export interface Gate {
  readonly client: Client;
  readonly tool: string;
  /** Finds (or proposes) the call's action with the key and body its `execute` uses, without redeeming it. */
  propose(args: Arguments, toolCallId: string): Promise<Action>;
}

/** The gate of a tool from {@link withApproval}; undefined for any other tool. */
export function gateOf(tool: unknown): Gate | undefined {
  return typeof tool === 'object' && tool !== null ? (tool as { [GATE]?: Gate })[GATE] : undefined;
}

/**
 * A Mastra tool whose calls are approved through Countersign, in Mastra's own tool-approval flow.
 *
 * The returned copy has `requireApproval: true`, so each call stops the agent (`finishReason: 'suspended'`)
 * until it is approved or declined; {@link answerToolApprovals} answers those stops from Countersign. Its
 * `execute` goes through `guard()`, keyed by Mastra's tool-call id: it runs only once Countersign approved
 * the call, with the **approved** arguments (a reviewer's edits, checked against `inputSchema`), after
 * redeeming the receipt, and reports the result; a call that already ran returns its recorded output. So
 * approving the call in Mastra alone never bypasses Countersign: a refusal is what the model reads.
 *
 * @example
 * import { createTool } from '@mastra/core/tools';
 * import { withApproval } from '@countersign/sdk/mastra';
 *
 * const deploy = withApproval(cs, createTool({ id: 'deploy', description, inputSchema, execute }), {
 *   resource: (a) => `service:${a.service}`,
 * });
 */
export function withApproval<T extends MastraToolLike>(client: Client, tool: T, options: MastraApprovalOptions = {}): T {
  const execute = tool.execute as ((input: unknown, context: ExecutionContext) => unknown) | undefined;
  if (typeof execute !== 'function') {
    throw new TypeError(`withApproval: the tool "${tool.id}" has no execute function, so there is nothing to gate`);
  }
  const { tool: name = tool.id, validateEditedArguments = true, ...rest } = options;
  const guardOptions: GuardOptions<Arguments> = { ...rest, tool: name };
  const schema = isStandardSchema(tool.inputSchema) ? tool.inputSchema : undefined;

  const gatedExecute = async (input: unknown, context: ExecutionContext): Promise<unknown> => {
    const toolCallId = context?.agent?.toolCallId;
    const args = (input ?? {}) as Arguments;
    const run = guard(
      client,
      async (approved: Arguments, ctx) => {
        // The tool reads its action with approvedAction(context), e.g. as the parent_id of a subagent's calls.
        const runContext = ctx.action ? withApprovedAction(context, ctx.action) : context;
        // Unedited, the call runs with the input Mastra already parsed (defaults, transforms); edited, with the edit.
        if (canonicalize(approved) === canonicalize(args)) return execute(input, runContext);
        const runWith = validateEditedArguments && schema ? await validate(schema, approved, name) : approved;
        return execute(runWith, runContext);
      },
      guardOptions,
    );
    const out = await run(args, {
      ...(toolCallId === undefined ? {} : { toolCallId }),
      ...(context?.abortSignal ? { signal: context.abortSignal } : {}),
    });
    return isRefusal(out) ? out.message : out;
  };

  const gate: Gate = {
    client,
    tool: name,
    propose: (args, toolCallId) => {
      const key = guardKey(guardOptions, args, { toolCallId });
      return client.propose(guardProposal(guardOptions, args), key === undefined ? {} : { idempotencyKey: key });
    },
  };
  // A copy with the tool's own prototype, so Mastra's class methods and markers still apply to it.
  const copy = Object.assign(Object.create(Object.getPrototypeOf(tool)) as T, tool, {
    execute: gatedExecute,
    requireApproval: true,
    [GATE]: gate,
  });
  // A per-call predicate would decide instead of requireApproval; every call is Countersign's to decide.
  delete (copy as { needsApprovalFn?: unknown }).needsApprovalFn;
  return copy;
}

function isStandardSchema(v: unknown): v is StandardSchema {
  return typeof v === 'object' && v !== null && typeof (v as Partial<StandardSchema>)['~standard']?.validate === 'function';
}

async function validate(schema: StandardSchema, value: Arguments, tool: string): Promise<unknown> {
  const checked = await schema['~standard'].validate(value);
  if (checked.issues) {
    throw new Error(
      `the approved arguments do not match the input schema of "${tool}": ${checked.issues.map((i) => i.message).join('; ')}`,
    );
  }
  return checked.value;
}
