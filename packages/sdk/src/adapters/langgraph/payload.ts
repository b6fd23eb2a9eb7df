import type { Client } from '../../client.js';
import type { ToolApprovalRequired } from '../../harness.js';

/** One tool call waiting for a person: the harness's `tool.approval_required` plus where to review it. */
export interface PendingApproval extends ToolApprovalRequired {
  /** The model's tool-call id (always set here: a call without one cannot be re-attached after a resume). */
  tool_call_id: string;
  /** Where a person reviews it (the `reviewUrl` option; default: the action's URL at the gateway). */
  review_url: string;
}

/**
 * The value of an `interrupt()` raised by {@link interruptForApproval}: what a UI shows a person. One interrupt
 * carries every call of that node that awaits review (a node given one call, e.g. through `Send`, raises one
 * interrupt per call).
 */
export interface ApprovalInterrupt {
  type: 'countersign.approval_required';
  approvals: PendingApproval[];
}

/**
 * The resume value {@link resumeFromCountersign} builds for one interrupt. Only a hint: whatever value a graph
 * is resumed with (this, or `{ decision: 'approve' }` from a UI), the node re-reads each decision at the gateway.
 */
export interface ApprovalResume {
  type: 'countersign.recheck';
  approval_ids: string[];
}

export function isApprovalInterrupt(value: unknown): value is ApprovalInterrupt {
  const v = value as Partial<ApprovalInterrupt> | null;
  return typeof v === 'object' && v !== null && v.type === 'countersign.approval_required' && Array.isArray(v.approvals);
}

/** `{id}` in the template is replaced by the action id. */
export function reviewUrl(client: Client, template: string | undefined, actionId: string): string {
  return (template ?? `${client.url}/v1/actions/{id}`).replaceAll('{id}', encodeURIComponent(actionId));
}
