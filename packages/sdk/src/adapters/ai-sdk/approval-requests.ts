import type { ToolApprovalResponse, ToolModelMessage } from 'ai';
import { refusalMessage } from '../../errors.js';
import type { Action } from '../../types.js';
import { gateOf, isArguments } from './gate.js';

/**
 * A `tool-approval-request` content part as `ai` 6 and 7 both shape it (`result.content`, or the parts of
 * `result.response.messages`): the approval's id and the tool call it is for.
 */
interface ApprovalRequestPart {
  type: 'tool-approval-request';
  approvalId: string;
  toolCall: { toolCallId: string; toolName: string; input: unknown };
}

/**
 * Options for {@link resolveToolApprovals}.
 *
 * @example
 * // Read the decisions made so far, without waiting (e.g. from a request handler):
 * const options: ResolveToolApprovalsOptions = { wait: false };
 */
export interface ResolveToolApprovalsOptions {
  /** Wait for a decision on calls still under review (default `true`); `false` only reads where they stand. */
  wait?: boolean;
  /** Stop waiting; calls not yet decided get no response (their actions stay pending at the gateway). */
  signal?: AbortSignal;
  /** Stop waiting after this many milliseconds; calls not yet decided get no response. */
  timeout?: number;
}

/**
 * What became of one approval request.
 *
 * @example
 * const { resolutions } = await resolveToolApprovals(result, tools, { wait: false });
 * const waiting = resolutions.filter((r) => r.outcome === 'pending').map((r) => r.action?.id);
 */
export interface ToolApprovalResolution {
  approvalId: string;
  toolCallId: string;
  toolName: string;
  /**
   * - `'approved'`: answered approved; the SDK runs the call (with the approved arguments) when generation resumes;
   * - `'denied'`: answered denied, with who refused it and why as the reason the model reads;
   * - `'pending'`: no decision yet; no response for it in the message;
   * - `'skipped'`: not a call of a tool wrapped with `mode: 'approval-request'`; left for the caller to answer.
   */
  outcome: 'approved' | 'denied' | 'pending' | 'skipped';
  /** The call's Countersign action (null when skipped). */
  action: Action | null;
}

/**
 * Answers the AI SDK's own tool-approval requests (`ai` 6 and 7) from Countersign decisions.
 *
 * Tools wrapped with `withApproval(cs, tool, { mode: 'approval-request' })` (or `withApprovals`) ask the SDK for
 * approval only when Countersign holds the call for review, so generation stops with `tool-approval-request`
 * parts. This function finds each call's action (the same key and body as when the call was proposed, so it
 * also works on the stored messages read back in another process: pass the message list), waits for its decision, and
 * returns the `tool` message of `tool-approval-response` parts to append before generating again:
 * - approved: the SDK then runs the call, and the tool runs with the **approved** arguments (a reviewer's
 *   edits included) after redeeming the receipt, at most once;
 * - denied, expired or cancelled: the SDK sends the model an `execution-denied` result whose reason says who
 *   refused it and why.
 * Requests are decided independently and waited for in parallel. `message` is null when nothing was answered.
 *
 * @example
 * import { generateText, stepCountIs, type ModelMessage } from 'ai';
 * import { resolveToolApprovals, withApprovals } from '@countersign/sdk/ai-sdk';
 *
 * const tools = withApprovals(cs, { deploy }, { mode: 'approval-request' });
 * const messages: ModelMessage[] = [{ role: 'user', content: 'Deploy api' }];
 * for (;;) {
 *   const result = await generateText({ model, tools, messages, stopWhen: stepCountIs(5) });
 *   messages.push(...result.response.messages);
 *   const { message } = await resolveToolApprovals(result, tools); // waits for the reviewers
 *   if (!message) break;
 *   messages.push(message);
 * }
 */
export async function resolveToolApprovals(
  source: { readonly content: readonly unknown[] } | readonly unknown[],
  tools: Readonly<Record<string, unknown>>,
  options: ResolveToolApprovalsOptions = {},
): Promise<{ message: ToolModelMessage | null; resolutions: ToolApprovalResolution[] }> {
  const resolutions = await Promise.all(approvalRequestsIn(source).map((part) => resolveOne(part, tools, options)));
  const content: ToolApprovalResponse[] = [];
  for (const r of resolutions) {
    if (r.outcome === 'approved') content.push({ type: 'tool-approval-response', approvalId: r.approvalId, approved: true });
    if (r.outcome === 'denied' && r.action) {
      content.push({ type: 'tool-approval-response', approvalId: r.approvalId, approved: false, reason: refusalMessage(r.action) });
    }
  }
  return { message: content.length === 0 ? null : { role: 'tool', content }, resolutions };
}

/**
 * The approval requests in a result (its `content` parts carry the tool call), or in a list of messages (stored
 * and read back, e.g. after a restart), where a request names only its `toolCallId` and the call is the
 * `tool-call` part beside it. Requests already answered by a later `tool-approval-response` are left out.
 */
function approvalRequestsIn(source: { readonly content: readonly unknown[] } | readonly unknown[]): ApprovalRequestPart[] {
  const items: readonly unknown[] = Array.isArray(source) ? source : (source as { content: readonly unknown[] }).content;
  const parts = items.flatMap((item) => {
    const content = (item as { content?: unknown }).content;
    return (item as { role?: unknown }).role !== undefined && Array.isArray(content) ? (content as unknown[]) : [item];
  }) as { type?: unknown; toolCallId?: string; toolName?: string; input?: unknown; approvalId?: string; toolCall?: unknown }[];
  const calls = new Map(parts.filter((p) => p.type === 'tool-call').map((p) => [p.toolCallId, p]));
  const answered = new Set(parts.filter((p) => p.type === 'tool-approval-response').map((p) => p.approvalId));
  const requests: ApprovalRequestPart[] = [];
  for (const p of parts) {
    if (p.type !== 'tool-approval-request' || typeof p.approvalId !== 'string' || answered.has(p.approvalId)) continue;
    const call = (p.toolCall ?? calls.get(p.toolCallId)) as ApprovalRequestPart['toolCall'] | undefined;
    if (call) requests.push({ type: 'tool-approval-request', approvalId: p.approvalId, toolCall: call });
  }
  return requests;
}

async function resolveOne(
  part: ApprovalRequestPart,
  tools: Readonly<Record<string, unknown>>,
  options: ResolveToolApprovalsOptions,
): Promise<ToolApprovalResolution> {
  const { toolCallId, toolName, input } = part.toolCall;
  const base = { approvalId: part.approvalId, toolCallId, toolName };
  const gate = gateOf(tools[toolName]);
  if (!gate) return { ...base, outcome: 'skipped', action: null };
  const args = input ?? {}; // as the tool's needsApproval and execute propose a call without arguments
  if (!isArguments(args)) throw new TypeError(`the arguments of "${gate.tool}" are not a JSON object`);
  let action = await gate.propose(args, toolCallId);
  if (action.status === 'pending' && options.wait !== false) {
    action = await gate.client.waitForDecision(action.id, {
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
    });
  }
  return { ...base, outcome: outcomeOf(action), action };
}

function outcomeOf(action: Action): ToolApprovalResolution['outcome'] {
  switch (action.status) {
    case 'pending':
      return 'pending';
    // Executed or failed: it already ran once; the SDK's execute then returns the recorded outcome, never a second run.
    case 'approved':
    case 'executed':
    case 'failed':
      return 'approved';
    case 'denied':
    case 'expired':
    case 'cancelled':
      return 'denied';
  }
}
