import { type Action, refusalMessage } from '@countersign/sdk';
import type { CallToolResult } from '@modelcontextprotocol/server';

/**
 * The tool results the proxy writes itself. They are read by a model, so each says plainly
 * whether anything ran and what to do next. Every "did not run" result is an error result.
 */

export const STATUS_TOOL = 'countersign_status';
export const WAIT_TOOL = 'countersign_wait';

export function textResult(text: string, isError: boolean): CallToolResult {
  return { content: [{ type: 'text', text }], isError };
}

/** Where a person reviews the action. */
export function reviewUrl(template: string, actionId: string): string {
  return template.replaceAll('{id}', encodeURIComponent(actionId));
}

const MAX_APPROVERS_NAMED = 5;

/** Who can decide now, from the action's current workflow stage: "alice@example.com or group sre". */
export function approvers(action: Action): string {
  const a = action.workflow?.stage.approvers;
  if (!a) return 'a reviewer';
  const who = [...a.users, ...a.groups.map((g) => `group ${g}`), ...a.roles.map((r) => `role ${r}`)];
  if (a.owner) who.push("the agent's owner");
  if (who.length === 0) return 'a reviewer';
  const named = who.slice(0, MAX_APPROVERS_NAMED).join(' or ');
  return who.length > MAX_APPROVERS_NAMED ? `${named} (+${who.length - MAX_APPROVERS_NAMED} more)` : named;
}

/** The progress message of a held call. */
export function waitingMessage(action: Action, urlTemplate: string): string {
  return `waiting for approval by ${approvers(action)}, id ${action.id}, URL ${reviewUrl(urlTemplate, action.id)}`;
}

/** The hold budget is spent and nobody has decided: nothing ran, and this is how to continue. */
export function pendingResult(action: Action, urlTemplate: string, exposedName: string): CallToolResult {
  const url = reviewUrl(urlTemplate, action.id);
  return textResult(
    [
      `NOT EXECUTED — pending approval ${action.id} (${url})`,
      `The call to "${exposedName}" is waiting for approval by ${approvers(action)}. Nothing has been run.`,
      `To check on it, call ${STATUS_TOOL} with {"id": "${action.id}"}; to wait for the decision, call ${WAIT_TOOL} with {"id": "${action.id}"}.`,
      `Once it is approved, make the identical call again (same tool, same arguments): it will then run once, with the approved arguments.`,
    ].join('\n'),
    true,
  );
}

/** Denied, expired or cancelled: the reason, for the model. */
export function refusedResult(action: Action): CallToolResult {
  return textResult(`NOT EXECUTED — ${refusalMessage(action)} (action ${action.id})`, true);
}

/** The identical call attached to an action that already ran; it is never run twice. */
export function alreadyRanResult(action: Action): CallToolResult {
  const how = action.status === 'executed' ? 'succeeded' : action.status === 'failed' ? 'failed' : `is ${action.status}`;
  return textResult(
    `NOT EXECUTED again — action ${action.id} already ran once and ${how}; an approved call is never run twice. Make the call again to propose it anew.`,
    true,
  );
}

/** The client withdrew the call before it was approved. */
export function cancelledResult(action: Action): CallToolResult {
  return textResult(`NOT EXECUTED — the call was cancelled before approval; action ${action.id} was withdrawn.`, true);
}

const RESERVED_META_PREFIX = 'io.modelcontextprotocol/';

/**
 * The upstream's result as the downstream client should see it: content, structured content,
 * the error flag and the tool's own `_meta`, unchanged. Protocol-reserved `_meta` keys describe
 * the upstream hop (its server identity, its protocol revision) and are not ours to repeat.
 */
export function faithfulResult(upstream: CallToolResult): CallToolResult {
  const out: CallToolResult = { content: upstream.content };
  if (upstream.structuredContent !== undefined) out.structuredContent = upstream.structuredContent;
  if (upstream.isError !== undefined) out.isError = upstream.isError;
  const meta = Object.entries(upstream._meta ?? {}).filter(([k]) => !k.startsWith(RESERVED_META_PREFIX));
  if (meta.length > 0) out._meta = Object.fromEntries(meta);
  return out;
}

const MAX_REPORTED_TEXT = 4096;

/** What the gateway records as the call's output: the outcome and a bounded excerpt, not whole files. */
export function resultSummary(result: CallToolResult): Record<string, unknown> {
  const text = result.content
    .filter((c): c is { type: 'text'; text: string } => c.type === 'text')
    .map((c) => c.text)
    .join('\n');
  return {
    is_error: result.isError === true,
    content_types: result.content.map((c) => c.type),
    text: text.length > MAX_REPORTED_TEXT ? `${text.slice(0, MAX_REPORTED_TEXT)}…` : text,
    ...(result.structuredContent !== undefined ? { structured: true } : {}),
  };
}
