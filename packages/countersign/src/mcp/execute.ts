import type { Action, Client, TraceHeaders } from '@countersign/sdk';
import type { CallToolResult } from '@modelcontextprotocol/server';
import type { Logger } from 'pino';
import type { CatalogueEntry } from './catalogue.js';
import { gatewayErrorResult, toCsError } from './errors.js';
import type { ProgressReporter } from './progress.js';
import { faithfulResult, resultSummary, textResult } from './results.js';
import { DefinitionChanged } from './upstream.js';

export interface RunContext {
  cs: Client;
  /** The downstream call's signal: forwarded upstream as cancellation once the call runs. */
  signal: AbortSignal;
  progress: ProgressReporter | undefined;
  upstreamTimeoutMs: number;
  log: Logger;
  /** Keeps a background task (the result report) alive until the proxy stops. */
  track: (task: Promise<unknown>) => void;
  /** The downstream call's trace context, sent with the redemption and the result. */
  trace?: TraceHeaders | undefined;
}

/**
 * Runs an approved action upstream, at most once, the way `guard()` does: redeem the receipt
 * first unless the proposal already did (a receipt redeems once, so a second runner is refused
 * before it runs anything), call the upstream tool with the approved, possibly edited, arguments,
 * then report the outcome. `definition` is the fingerprint of the tool definition the action was
 * reviewed under; it is checked once the server is reachable, before redeeming and again just
 * before sending, so an approval never runs against a definition nobody reviewed.
 */
export async function runApproved(
  entry: CatalogueEntry,
  action: Action,
  rc: RunContext,
  definition: string | undefined,
): Promise<CallToolResult> {
  if (rc.signal.aborted) return notRun(action, rc, `the call was cancelled; approved action ${action.id} was not run`);
  try {
    // A restart under way may bring another definition; an unreachable server keeps the approval unused.
    await entry.upstream.ready();
  } catch (e) {
    const why = `the upstream server "${entry.upstream.name}" is not reachable (${(e as Error).message}); approved action ${action.id} was not run, call again once it is back`;
    return notRun(action, rc, why);
  }
  const standing = definition === undefined ? 'same' : entry.upstream.definitionIs(entry.tool.name, definition);
  if (standing !== 'same') return notRun(action, rc, changedDefinition(entry, action, standing === 'gone'));
  try {
    // Proposed with redeem: an action the policy allowed at once came back already redeemed for this call.
    if (action.redeemed !== true) await rc.cs.redeem(action, rc.trace ? { trace: rc.trace } : {});
  } catch (e) {
    if (toCsError(e).code === 'receipt_used') {
      // Redeemed before (another runner, or one that died before reporting): running again could run it twice.
      return textResult(`NOT EXECUTED — action ${action.id} was already started once and may have run; it is never run twice.`, true);
    }
    return gatewayErrorResult(e, entry.name);
  }
  let result: CallToolResult;
  try {
    result = await entry.upstream.callTool(entry.tool.name, action.arguments, {
      signal: rc.signal,
      timeoutMs: rc.upstreamTimeoutMs,
      onprogress: rc.progress ? (p) => rc.progress?.forward(p) : undefined,
      definition,
    });
  } catch (e) {
    // Redeemed by now, so it is reported either way: not run, or failed while running.
    if (e instanceof DefinitionChanged) return notRun(action, rc, changedDefinition(entry, action, e.gone), true);
    const message = (e as Error).message;
    report(rc, action, 'failed', { error: message, cancelled: rc.signal.aborted });
    return textResult(`The upstream server "${entry.upstream.name}" failed while running approved action ${action.id}: ${message}`, true);
  }
  report(rc, action, result.isError === true ? 'failed' : 'succeeded', resultSummary(result));
  return faithfulResult(result);
}

/**
 * An approved action the proxy decided not to run. One already redeemed (with its proposal, or
 * here) is reported as not run, or it would look started-and-lost.
 */
export function notRun(action: Action, rc: RunContext, why: string, redeemed = action.redeemed === true): CallToolResult {
  if (redeemed) report(rc, action, 'failed', { error: why, not_run: true });
  return textResult(`NOT EXECUTED — ${why}.`, true);
}

function changedDefinition(entry: CatalogueEntry, action: Action, gone: boolean): string {
  return `"${entry.name}" ${gone ? 'went away' : 'changed its definition'} after action ${action.id} was proposed, so the approval is not used; call it again to have it reviewed as it is now`;
}

/**
 * Reported in the background: the caller has its result; a lost report costs an audit line, not the call.
 * It starts on the next turn of the event loop, after the answer has been handed to the transport (over
 * stdio: written), so its request (serialising, the socket write, waking the gateway) does not go first.
 */
function report(rc: RunContext, action: Action, outcome: 'succeeded' | 'failed', output: unknown): void {
  rc.track(
    new Promise((resolve) => setImmediate(resolve))
      .then(() => rc.cs.reportResult(action.id, outcome, output, rc.trace ? { trace: rc.trace } : {}))
      .catch((err) => rc.log.warn({ err, action: action.id }, 'could not report the result')),
  );
}
