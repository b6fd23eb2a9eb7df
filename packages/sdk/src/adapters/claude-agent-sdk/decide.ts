import type { Client } from '../../client.js';
import { CountersignError, refusalMessage } from '../../errors.js';
import { type GuardOptions, guardProposal } from '../../guard.js';
import type { Action, ProposedAction } from '../../types.js';

/** A tool call's input as Countersign sees it: the JSON object the model sent. */
export type Arguments = Record<string, unknown>;

/**
 * What each proposal says and which calls are proposed (the permission side adds `otherTools`).
 *
 * @example
 * const options: ToolUseProposalOptions = {
 *   tools: (name) => name.startsWith('mcp__ops__') || name === 'Bash',
 *   resource: (name, input) => (name === 'Bash' ? `shell:${String(input.command).split(' ')[0]}` : undefined),
 *   timeout: 10 * 60_000,
 * };
 */
export interface ToolUseProposalOptions
  extends Pick<GuardOptions<Arguments>, 'annotations' | 'session_id' | 'parent_id' | 'on_behalf_of' | 'metadata' | 'timeout'> {
  /**
   * Which tool calls go to Countersign, by the name Claude uses (`Bash`, `Write`, `mcp__<server>__<tool>`):
   * all (default), a list of names, or a predicate. Other calls are left to the SDK's own permission flow.
   */
  tools?: readonly string[] | ((toolName: string, input: Arguments) => boolean);
  /** The tool name policies see (default: Claude's name, e.g. `mcp__ops__deploy`). */
  toolName?: (toolName: string) => string;
  resource?: string | ((toolName: string, input: Arguments) => string | undefined);
  purpose?: string | ((toolName: string, input: Arguments) => string | undefined);
}

/** What Countersign decided about one tool call, in the terms the SDK answers in. */
export type Verdict =
  | { kind: 'unguarded' }
  | { kind: 'allow'; input: Arguments; action: Action }
  | { kind: 'deny'; message: string; action: Action | null };

export function isGuarded(options: ToolUseProposalOptions, toolName: string, input: Arguments): boolean {
  const { tools } = options;
  if (tools === undefined) return true;
  return typeof tools === 'function' ? tools(toolName, input) : tools.includes(toolName);
}

/** The idempotency key of one tool use; the same derivation as guard()'s default, so a restart re-attaches. */
export function toolUseKey(tool: string, toolUseId: string): string {
  return `tool-call:${tool}:${toolUseId}`;
}

/**
 * Proposes one tool use (or re-attaches to the action proposed for it before), waits for the decision and,
 * when approved, redeems the receipt **before** answering: the SDK runs the tool itself once told "allow",
 * so the single-use receipt is what keeps a restarted agent from running an approved call twice.
 */
export async function decideToolUse(
  client: Client,
  options: ToolUseProposalOptions,
  call: { toolName: string; input: Arguments; toolUseId: string; signal: AbortSignal },
): Promise<Verdict> {
  if (!isGuarded(options, call.toolName, call.input)) return { kind: 'unguarded' };
  const tool = options.toolName ? options.toolName(call.toolName) : call.toolName;
  const proposed = await client.propose(proposalFor(tool, options, call.toolName, call.input), {
    idempotencyKey: toolUseKey(tool, call.toolUseId),
    redeem: true,
  });
  const action =
    proposed.status === 'pending'
      ? await client.waitForDecision(proposed.id, {
          signal: call.signal,
          ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
        })
      : proposed;
  switch (action.status) {
    case 'pending':
      return { kind: 'deny', message: `Still pending approval ${action.id}; the tool "${tool}" was not run.`, action };
    case 'denied':
    case 'expired':
    case 'cancelled':
      return { kind: 'deny', message: refusalMessage(action), action };
    case 'executed':
    case 'failed': {
      // An earlier incarnation of this agent ran it: the SDK cannot be handed a recorded output, so the model
      // reads it in the refusal instead of the tool running a second time.
      const output = JSON.stringify(action.result?.output ?? null);
      return {
        kind: 'deny',
        message: `The tool "${tool}" already ran for action ${action.id} (${action.status}): ${output}. Not run again.`,
        action,
      };
    }
    case 'approved':
      return redeemed(client, tool, action);
  }
}

async function redeemed(client: Client, tool: string, action: Action): Promise<Verdict> {
  try {
    if (action.redeemed !== true) await client.redeem(action);
  } catch (e) {
    if (!(e instanceof CountersignError && e.code === 'receipt_used')) throw e;
    // Redeemed by an earlier incarnation that died before reporting: allowing again could run it twice.
    const message = `Action ${action.id} was already started once and may have run; the tool "${tool}" was not run again.`;
    return { kind: 'deny', message, action };
  }
  return { kind: 'allow', input: action.arguments, action };
}

/** The proposal for one tool use: guard()'s body, so every look-up of it is the same request, as the idempotency key requires. */
function proposalFor(tool: string, options: ToolUseProposalOptions, toolName: string, input: Arguments): ProposedAction {
  const resource = typeof options.resource === 'function' ? options.resource(toolName, input) : options.resource;
  const purpose = typeof options.purpose === 'function' ? options.purpose(toolName, input) : options.purpose;
  return guardProposal({ ...options, tool, resource, purpose }, input);
}

/** The SDK hands hooks `tool_input: unknown`; only a JSON object can be proposed. */
export function isArguments(value: unknown): value is Arguments {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
