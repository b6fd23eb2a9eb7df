import type { Action } from '@countersign/sdk';
import { type CallToolResult, ProtocolError, ProtocolErrorCode, type Tool } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { ProxyCore } from './core.js';
import { gatewayErrorResult } from './errors.js';
import { holdForDecision } from './hold.js';
import type { ProgressReporter } from './progress.js';
import { approvers, refusedResult, reviewUrl, STATUS_TOOL, textResult, WAIT_TOOL, waitingMessage } from './results.js';

/**
 * The proxy's own tools, for a model that got "NOT EXECUTED — pending approval": look at the
 * action, or wait for its decision. Both only read; neither runs anything, so neither is proposed.
 */
const READ_ONLY = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false } as const;
const ID_SCHEMA = { type: 'string', description: 'The action id from the "NOT EXECUTED — pending approval <id>" result' } as const;

export const BUILTIN_TOOLS: readonly Tool[] = [
  {
    name: STATUS_TOOL,
    title: 'Approval status',
    description:
      'Shows the status of a tool call that is waiting for human approval (from a "NOT EXECUTED — pending approval <id>" result). Runs nothing.',
    inputSchema: { type: 'object', properties: { id: ID_SCHEMA }, required: ['id'], additionalProperties: false },
    annotations: READ_ONLY,
  },
  {
    name: WAIT_TOOL,
    title: 'Wait for approval',
    description:
      'Waits until a tool call that needs human approval is decided (or the wait ends), then says whether to call the tool again. Runs nothing.',
    inputSchema: {
      type: 'object',
      properties: { id: ID_SCHEMA, timeout_seconds: { type: 'number', minimum: 0, description: 'Longest wait, in seconds' } },
      required: ['id'],
      additionalProperties: false,
    },
    annotations: READ_ONLY,
  },
];

const StatusArgs = z.strictObject({ id: z.string().regex(/^[\x21-\x7e]{1,128}$/, 'must be an action id') });
const WaitArgs = StatusArgs.extend({ timeout_seconds: z.number().min(0).max(86_400).optional() });

export interface BuiltinCall {
  name: string;
  args: Record<string, unknown>;
  signal: AbortSignal;
  progress: ProgressReporter | undefined;
}

export function isBuiltin(name: string): boolean {
  return name === STATUS_TOOL || name === WAIT_TOOL;
}

/** Runs countersign_status or countersign_wait. Invalid arguments are a protocol error, as for any tool. */
export async function runBuiltin(core: ProxyCore, call: BuiltinCall): Promise<CallToolResult> {
  const schema = call.name === WAIT_TOOL ? WaitArgs : StatusArgs;
  const parsed = schema.safeParse(call.args);
  if (!parsed.success) {
    throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Invalid arguments for ${call.name}: ${parsed.error.issues[0]?.message}`);
  }
  const { id } = parsed.data;
  try {
    let action = await core.cs.getAction(id);
    if (call.name === WAIT_TOOL && action.status === 'pending') {
      const hold = core.settings.hold;
      const limit = call.progress ? hold.progressBudgetMs : hold.budgetMs;
      const asked = (parsed.data as z.infer<typeof WaitArgs>).timeout_seconds;
      const outcome = await holdForDecision(core.cs, action, {
        budgetMs: asked === undefined ? limit : Math.min(limit, asked * 1000),
        intervalMs: hold.progressIntervalMs,
        clock: core.clock,
        signal: call.signal,
        progress: call.progress,
        describe: (a) => waitingMessage(a, core.settings.reviewUrl),
      });
      action = outcome.action;
    }
    return describeStatus(action, core.settings.reviewUrl);
  } catch (e) {
    return gatewayErrorResult(e, call.name);
  }
}

/** The status, and what the model should do next. */
function describeStatus(a: Action, urlTemplate: string): CallToolResult {
  switch (a.status) {
    case 'pending':
      return textResult(
        `PENDING — action ${a.id} ("${a.tool}") is waiting for approval by ${approvers(a)} (${reviewUrl(urlTemplate, a.id)}). Nothing has run.`,
        false,
      );
    case 'approved':
      return textResult(
        `APPROVED — action ${a.id} ("${a.tool}")${a.edited ? ' was approved with edited arguments' : ' was approved'}. ` +
          `Make the identical call again (same tool, same arguments as before) to run it once${a.edited ? ', with these arguments' : ''}: ${JSON.stringify(a.arguments)}`,
        false,
      );
    case 'denied':
    case 'expired':
    case 'cancelled':
      return { ...refusedResult(a), isError: false };
    case 'executed':
    case 'failed':
      return textResult(`DONE — action ${a.id} ("${a.tool}") already ran (${a.status}); it is never run twice.`, false);
  }
}
