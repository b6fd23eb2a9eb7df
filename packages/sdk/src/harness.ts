/**
 * The harness flow: a turn-based agent loop ends its turn on `tool.approval_required` and resumes the next
 * turn with a `tool.approval` input. Subagents' approvals surface to the top-level run through `parent_id`
 * chains (every action knows its `root_id`), and the input resumes the subagent that asked.
 *
 * @example
 * // In any (sub)agent's tool executor: pause instead of holding the turn open.
 * const deploy = cs.guard(runDeploy, { tool: 'deploy', onPending: 'pause', parent_id: delegationId });
 * try {
 *   return await deploy(args, { toolCallId });
 * } catch (e) {
 *   if (e instanceof ApprovalPending) return endTurn(e.requests); // emit tool.approval_required
 *   throw e;
 * }
 * // Next turn, with the user's `tool.approval` input:
 * await applyToolApproval(cs, input, { reviewer });        // records their decision at the gateway
 * return await deploy(args, { toolCallId });                 // same call: runs once with the approved args, or is refused
 */
import type { Client } from './client.js';
import { CountersignError } from './errors.js';
import type { EventFilter, FollowOptions } from './events.js';
import type { Action } from './types.js';

/** What a turn ends on: a tool call that needs a person's decision (`approval_id` is the action id). */
export interface ToolApprovalRequired {
  type: 'tool.approval_required';
  approval_id: string;
  tool: string;
  arguments: Record<string, unknown>;
  resource: string | null;
  purpose: string | null;
  /** The model's tool-call id, when the proposal carried it in `metadata.tool_call_id`. */
  tool_call_id: string | null;
  /** The action this one was made under (e.g. the delegation to the subagent that asked). */
  parent_id: string | null;
  /** The top-level action of the chain: the run the approval surfaces to. */
  root_id: string | null;
  session_id: string | null;
  /** The (sub)agent that asked, outermost first (`metadata.agent_path`, else the agent's name). */
  agent_path: string[];
  /** Who may decide, and until when (the action fails closed after `expires_at`). */
  approvers: { users: string[]; groups: string[]; roles: string[]; owner: boolean } | null;
  expires_at: string | null;
}

/** The next turn's input. Without `decision`, the decision already made at the gateway (inbox, Slack, CLI…) is used. */
export interface ToolApproval {
  type: 'tool.approval';
  approval_id: string;
  decision?: 'approve' | 'deny';
  reason?: string;
  /** Edit and approve: the tool runs with these instead. */
  arguments?: Record<string, unknown>;
}

/**
 * Thrown by a guarded tool with `onPending: 'pause'`: end the turn and surface `requests`. A resumable
 * tool (a subagent) throws one carrying every approval its own paused calls wait for.
 */
export class ApprovalPending extends Error {
  readonly requests: readonly ToolApprovalRequired[];
  constructor(requests: ToolApprovalRequired | readonly ToolApprovalRequired[]) {
    const all = Array.isArray(requests) ? requests : [requests as ToolApprovalRequired];
    super(`${all.map((r) => `the tool "${r.tool}" needs approval ${r.approval_id}`).join('; ')} before it runs`);
    this.name = 'ApprovalPending';
    this.requests = all;
  }
}

/**
 * Whether `e` is an {@link ApprovalPending}. Checked by shape, not `instanceof`, so it holds across two
 * copies of the SDK in one process (a framework adapter bundling its own, say).
 */
export function isApprovalPending(e: unknown): e is ApprovalPending {
  return e instanceof Error && e.name === 'ApprovalPending' && Array.isArray((e as ApprovalPending).requests);
}

const strings = (v: unknown): string[] | undefined =>
  Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;

/** The `tool.approval_required` form of a pending action. */
export function toApprovalRequired(action: Action): ToolApprovalRequired {
  const callId = action.metadata.tool_call_id;
  return {
    type: 'tool.approval_required',
    approval_id: action.id,
    tool: action.tool,
    arguments: action.arguments,
    resource: action.resource,
    purpose: action.purpose,
    tool_call_id: typeof callId === 'string' ? callId : null,
    parent_id: action.parent_id,
    root_id: action.root_id,
    session_id: action.session_id,
    agent_path: strings(action.metadata.agent_path) ?? [action.agent.name],
    approvers: action.workflow?.stage.approvers ?? null,
    expires_at: action.workflow?.expires_at ?? action.expires_at,
  };
}

export interface ApplyOptions {
  /**
   * A client holding the deciding person's own key (a reviewer: agent keys can never decide). Needed
   * when the input carries a `decision`; the gateway still checks that this person may approve.
   */
  reviewer?: Client;
  /** How long to wait for the gateway's decision when the input has none (ms, default 0: read it as it is). */
  wait?: number;
  signal?: AbortSignal;
}

/**
 * Applies a `tool.approval` input: records the person's decision at the gateway (an edit approves with the
 * edited arguments), or reads the decision the gateway already has. Returns the action as it now stands;
 * resume the (sub)agent that asked, whose same tool call then runs once or reads the refusal.
 *
 * A decision that lost a race (someone decided first, e.g. in Slack) is not an error: the gateway's
 * decision stands and is returned.
 *
 * @example
 * // input: { type: 'tool.approval', approval_id, decision: 'deny', reason: 'not during the freeze' }
 * const reviewer = createClient({ url, apiKey: userKeyFromYourSession }); // the person, not the agent
 * const action = await applyToolApproval(cs, input, { reviewer });
 * // then resume the (sub)agent that asked: its same tool call runs once, or reads the refusal
 */
export async function applyToolApproval(client: Client, input: ToolApproval, opts: ApplyOptions = {}): Promise<Action> {
  if (input?.type !== 'tool.approval' || typeof input.approval_id !== 'string' || input.approval_id === '') {
    throw new CountersignError('invalid_request', 'expected a tool.approval input with an approval_id');
  }
  if (input.decision !== undefined) {
    if (input.decision !== 'approve' && input.decision !== 'deny') {
      throw new CountersignError(
        'invalid_request',
        `tool.approval decision must be "approve" or "deny", not ${JSON.stringify(input.decision)}`,
      );
    }
    if (!opts.reviewer) {
      throw new CountersignError('forbidden', 'a tool.approval with a decision needs the deciding person’s key (options.reviewer)');
    }
    try {
      return await opts.reviewer.review(input.approval_id, {
        decision: input.decision,
        ...(input.reason !== undefined ? { reason: input.reason } : {}),
        ...(input.arguments !== undefined && input.decision === 'approve' ? { arguments: input.arguments } : {}),
      });
    } catch (e) {
      if (!(e instanceof CountersignError && e.code === 'conflict')) throw e;
    }
  }
  return client.waitForDecision(input.approval_id, { timeout: opts.wait ?? 0, ...(opts.signal ? { signal: opts.signal } : {}) });
}

/**
 * Follows the approvals a run needs, its subagents' included: `{ root }` for an action and everything
 * under it in `parent_id` chains, `{ session }` for a whole session. Reconnects with `Last-Event-ID`.
 *
 * @example
 * for await (const req of approvalRequests(cs, { session: runId }, { signal })) ui.show(req);
 */
export async function* approvalRequests(
  client: Client,
  filter: Pick<EventFilter, 'root' | 'session' | 'action'>,
  opts: FollowOptions = {},
): AsyncGenerator<ToolApprovalRequired> {
  for await (const ev of client.events({ ...filter, types: ['tool.approval_required'] }, opts)) {
    if (ev.action.status === 'pending') yield toApprovalRequired(ev.action);
  }
}
