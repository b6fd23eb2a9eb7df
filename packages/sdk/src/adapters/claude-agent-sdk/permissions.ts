import type {
  CanUseTool,
  HookCallback,
  HookCallbackMatcher,
  HookEvent,
  HookJSONOutput,
  PermissionResult,
} from '@anthropic-ai/claude-agent-sdk';
import type { Client } from '../../client.js';
import type { Action } from '../../types.js';
import { type Arguments, decideToolUse, isArguments, isGuarded, type ToolUseProposalOptions, type Verdict } from './decide.js';

/**
 * Options for {@link claudeApprovals}, {@link countersignCanUseTool} and {@link countersignPreToolUse}.
 *
 * @example
 * const options: ClaudeApprovalOptions = {
 *   tools: ['Bash', 'mcp__ops__deploy'],
 *   otherTools: async (_name, input) => ({ behavior: 'allow', updatedInput: input }),
 *   timeout: 10 * 60_000,
 * };
 */
export interface ClaudeApprovalOptions extends ToolUseProposalOptions {
  /**
   * How `canUseTool` answers a call outside `tools` (the SDK asks it about every call it would prompt for).
   * Default: allow it unchanged. The PreToolUse hook gives such calls no opinion instead.
   */
  otherTools?: CanUseTool;
}

/** The hooks {@link ClaudeApprovals.hooks} returns, as `query({ options: { hooks } })` takes them. */
export type ClaudeHooks = Partial<Record<HookEvent, HookCallbackMatcher[]>>;

/**
 * One Countersign gate for a Claude Agent SDK session: the permission callback or the PreToolUse hook that
 * decides each call, and the hooks that report how an allowed call went, so its action ends `executed` or
 * `failed` (an allowed call is otherwise left approved and redeemed: it may have run).
 */
export interface ClaudeApprovals {
  /** For `options.canUseTool`: asked for calls the SDK would prompt for. */
  canUseTool: CanUseTool;
  /** A PreToolUse hook callback: runs for every tool call, including those the SDK would allow on its own. */
  preToolUse: HookCallback;
  /**
   * For `options.hooks`: PostToolUse / PostToolUseFailure report results; with `{ gate: true }` a PreToolUse
   * matcher decides every call too (then `canUseTool` is not needed), set to block the call when the hook
   * fails or times out rather than let it run undecided.
   */
  hooks(opts?: { gate?: boolean }): ClaudeHooks;
}

/** Seconds a PreToolUse hook may take when the wait has no timeout: a day, since people decide in their own time. */
const UNBOUNDED_HOOK_SECONDS = 24 * 60 * 60;

/**
 * A Countersign gate for the Claude Agent SDK. See {@link countersignCanUseTool} for what each decision
 * becomes; this also remembers which action each allowed tool use belongs to, so its hooks can report results.
 */
export function claudeApprovals(client: Client, options: ClaudeApprovalOptions = {}): ClaudeApprovals {
  // Per gate, never module-wide: tool-use id → the action that licensed it, until its result is reported.
  const running = new Map<string, Action>();
  const decide = async (toolName: string, input: unknown, toolUseId: string, signal: AbortSignal): Promise<Verdict> => {
    if (!isArguments(input)) {
      if (!isGuarded(options, toolName, {})) return { kind: 'unguarded' };
      return { kind: 'deny', message: `The tool "${toolName}" was not run: its input is not a JSON object.`, action: null };
    }
    try {
      const verdict = await decideToolUse(client, options, { toolName, input, toolUseId, signal });
      if (verdict.kind === 'allow') running.set(toolUseId, verdict.action);
      return verdict;
    } catch (e) {
      // No decision (gateway unreachable, aborted, refused the request): the call must not run undecided.
      return {
        kind: 'deny',
        message: `Countersign could not decide: ${(e as Error).message}. The tool "${toolName}" was not run.`,
        action: null,
      };
    }
  };
  const canUseTool: CanUseTool = async (toolName, input, callOptions) => {
    const verdict = await decide(toolName, input, callOptions.toolUseID, callOptions.signal);
    if (verdict.kind === 'unguarded' && options.otherTools) return options.otherTools(toolName, input, callOptions);
    return permissionResult(verdict, input);
  };
  const preToolUse: HookCallback = async (input, _toolUseId, { signal }) => {
    if (input.hook_event_name !== 'PreToolUse') return {};
    return hookOutput(await decide(input.tool_name, input.tool_input, input.tool_use_id, signal));
  };
  const report: HookCallback = async (input) => {
    if (input.hook_event_name !== 'PostToolUse' && input.hook_event_name !== 'PostToolUseFailure') return {};
    const action = running.get(input.tool_use_id);
    if (!action) return {};
    running.delete(input.tool_use_id);
    const outcome =
      input.hook_event_name === 'PostToolUse'
        ? client.reportResult(action.id, 'succeeded', toJson(input.tool_response))
        : client.reportResult(action.id, 'failed', { error: input.error });
    // Reporting is bookkeeping: the call already ran, and a lost report must not fail the agent's turn.
    await outcome.catch(() => undefined);
    return {};
  };
  const hookSeconds = options.timeout === undefined ? UNBOUNDED_HOOK_SECONDS : Math.ceil(options.timeout / 1000) + 60;
  return {
    canUseTool,
    preToolUse,
    hooks: ({ gate = false } = {}) => ({
      ...(gate ? { PreToolUse: [{ hooks: [preToolUse], timeout: hookSeconds, onFailure: 'block' as const }] } : {}),
      PostToolUse: [{ hooks: [report] }],
      PostToolUseFailure: [{ hooks: [report] }],
    }),
  };
}

/**
 * `options.canUseTool` backed by Countersign. Each call is proposed with the tool-use id as its idempotency
 * key (`tool-call:<tool>:<toolUseID>`), so a restarted agent re-attaches to the same action; then:
 * - approved: the receipt is redeemed, then `{ behavior: 'allow', updatedInput }` with the **approved**
 *   input (a reviewer's edits included);
 * - denied, expired, cancelled: `{ behavior: 'deny', message }`, the message the model reads naming who
 *   refused and why;
 * - still pending when `timeout` ends: denied with "Still pending approval <id>; … not run.";
 * - redeemed before (a restart after it was allowed) or already ran: denied, never allowed twice.
 * Calls outside `tools` are answered by `otherTools` when given, else allowed unchanged (not Countersign's to decide).
 *
 * @example
 * import { query } from '@anthropic-ai/claude-agent-sdk';
 * import { countersignCanUseTool } from '@countersign/sdk/claude-agent-sdk';
 *
 * for await (const m of query({ prompt, options: { canUseTool: countersignCanUseTool(cs) } })) console.log(m);
 */
export function countersignCanUseTool(client: Client, options: ClaudeApprovalOptions = {}): CanUseTool {
  return claudeApprovals(client, options).canUseTool;
}

/**
 * A PreToolUse hook callback backed by Countersign: the same decisions as {@link countersignCanUseTool},
 * answered as `hookSpecificOutput` (`permissionDecision: 'allow'` with `updatedInput`, or `'deny'` with the
 * reason). Unlike `canUseTool` it runs for every matching call, also those the SDK would allow by itself.
 * Calls outside `tools` get no opinion (the SDK's permission flow goes on). Give the matcher a `timeout`
 * longer than the wait and `onFailure: 'block'` (or use `claudeApprovals(cs).hooks({ gate: true })`, which does).
 *
 * @example
 * const options = {
 *   hooks: { PreToolUse: [{ matcher: 'Bash|mcp__ops__.*', hooks: [countersignPreToolUse(cs)], timeout: 3600, onFailure: 'block' }] },
 * };
 */
export function countersignPreToolUse(client: Client, options: ClaudeApprovalOptions = {}): HookCallback {
  return claudeApprovals(client, options).preToolUse;
}

function permissionResult(verdict: Verdict, input: Arguments): PermissionResult {
  switch (verdict.kind) {
    case 'unguarded':
      return { behavior: 'allow', updatedInput: input };
    case 'allow':
      return { behavior: 'allow', updatedInput: verdict.input };
    case 'deny':
      return { behavior: 'deny', message: verdict.message };
  }
}

function hookOutput(verdict: Verdict): HookJSONOutput {
  switch (verdict.kind) {
    case 'unguarded':
      return {};
    case 'allow':
      return {
        hookSpecificOutput: {
          hookEventName: 'PreToolUse',
          permissionDecision: 'allow',
          permissionDecisionReason: `Approved in Countersign (action ${verdict.action.id}).`,
          updatedInput: verdict.input,
        },
      };
    case 'deny':
      return {
        hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'deny', permissionDecisionReason: verdict.message },
      };
  }
}

function toJson(v: unknown): unknown {
  try {
    return v === undefined ? null : JSON.parse(JSON.stringify(v));
  } catch {
    return null;
  }
}
