import type { Action, TraceHeaders } from '@countersign/sdk';
import { type CallToolResult, type InputRequiredResult, ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import { isBuiltin, runBuiltin } from './builtin-tools.js';
import type { CatalogueEntry } from './catalogue.js';
import { toProposal } from './classify.js';
import type { ProxyCore, Session } from './core.js';
import { gatewayErrorResult, toCsError } from './errors.js';
import { type RunContext, runApproved } from './execute.js';
import { holdForDecision } from './hold.js';
import { askForReview, type InputRequiredContext, MAX_ROUNDS } from './input-required.js';
import type { ProgressReporter } from './progress.js';
import { alreadyRanResult, cancelledResult, pendingResult, refusedResult, textResult, waitingMessage } from './results.js';

/** One downstream `tools/call`, with what its transport knows about it. */
export interface DownstreamCall {
  session: Session;
  name: string;
  args: Record<string, unknown>;
  /** Aborted when the client cancels the request or goes away. */
  signal: AbortSignal;
  /** Present when the request carried a progress token. */
  progress: ProgressReporter | undefined;
  /** Present when the 2026-07-28 input_required path applies to this request. */
  review: InputRequiredContext | undefined;
  /** The W3C trace context the request carried in `_meta` (trace-meta.ts), passed on to the gateway. */
  trace?: TraceHeaders | undefined;
}

type Answer = CallToolResult | InputRequiredResult;

/** Per-call state threaded through the steps below. */
interface Step {
  core: ProxyCore;
  entry: CatalogueEntry;
  call: DownstreamCall;
  key: string;
}

/**
 * Handles one `tools/call`: every call to an upstream tool becomes a proposed action, and only
 * an approved action runs (once, with the approved arguments). Unknown tools are a protocol
 * error, as the MCP spec asks; everything else answers with a tool result the model can read.
 */
export async function callTool(core: ProxyCore, call: DownstreamCall): Promise<Answer> {
  if (isBuiltin(call.name)) return runBuiltin(core, call);
  const entry = core.lookup(call.name);
  if (!entry) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown tool: ${call.name}`);
  try {
    // A server that is down (and not back within a short wait) gets nothing proposed: no one should
    // review, and no approval be used up, for a call that cannot run.
    await entry.upstream.ready();
  } catch (e) {
    return textResult(
      `NOT EXECUTED — ${(e as Error).message}: "${entry.name}" was neither proposed for approval nor run; try again later.`,
      true,
    );
  }
  const step: Step = { core, entry, call, key: core.registry.callKey(call.session.id, entry.upstream.name, entry.tool.name, call.args) };
  let action: Action;
  try {
    action = await openAction(step);
  } catch (e) {
    return gatewayErrorResult(e, entry.name);
  }
  return advance(step, action);
}

/**
 * The action this call belongs to: the one named in a verified input_required state for this
 * very call, else the open action of an identical earlier call, else a new proposal.
 */
async function openAction(s: Step): Promise<Action> {
  const { core, call, key } = s;
  const fromState = call.review?.state?.k === key ? call.review.state.a : undefined;
  const open = core.registry.find(key);
  const known = fromState ?? open?.actionId;
  if (known !== undefined) {
    try {
      return await core.cs.getAction(known);
    } catch (e) {
      if (toCsError(e).code !== 'not_found') throw e;
      if (open) core.registry.settle(key, open.actionId);
    }
  }
  const action = await core.cs.propose(toProposal(s.entry, call.args, call.session.id), {
    idempotencyKey: core.registry.newIdempotencyKey(key),
    redeem: true,
    ...(call.trace ? { trace: call.trace } : {}),
  });
  if (action.status === 'pending' || action.status === 'approved') {
    const { evicted } = core.registry.track(key, call.session.id, action.id);
    for (const old of evicted) core.track(core.withdraw(old, 'too many calls waiting for approval in this session'));
  }
  return action;
}

/** Moves the call on from the action's current status. */
async function advance(s: Step, action: Action): Promise<Answer> {
  switch (action.status) {
    case 'approved':
      return execute(s, action);
    case 'pending':
      return s.call.review ? reviewRound(s, action, s.call.review) : hold(s, action);
    case 'denied':
    case 'expired':
    case 'cancelled':
      s.core.registry.settle(s.key, action.id);
      return refusedResult(action);
    case 'executed':
    case 'failed':
      s.core.registry.settle(s.key, action.id);
      return alreadyRanResult(action);
  }
}

/** Holds the call within its budget; a decision inside it continues the same call. */
async function hold(s: Step, action: Action): Promise<Answer> {
  const { core, call } = s;
  const h = core.settings.hold;
  const budgetMs = call.progress ? h.progressBudgetMs : h.budgetMs;
  // Which path a client takes (progress token or not) decides how long it can wait: say so.
  core.log.info(
    { action: action.id, tool: s.entry.name, progressToken: call.progress !== undefined, budgetMs },
    'holding a call for approval',
  );
  const outcome = await holdForDecision(core.cs, action, {
    budgetMs,
    intervalMs: h.progressIntervalMs,
    clock: core.clock,
    signal: call.signal,
    progress: call.progress,
    describe: (a) => waitingMessage(a, core.settings.reviewUrl),
  });
  switch (outcome.kind) {
    case 'cancelled':
      await core.withdraw({ key: s.key, actionId: action.id }, 'the MCP client cancelled the call');
      return cancelledResult(outcome.action);
    case 'pending':
      return pendingResult(outcome.action, core.settings.reviewUrl, s.entry.name);
    case 'decided':
      return advance(s, outcome.action);
  }
}

/**
 * One round of the input_required path: ask the host's user to review, or, on the retry that
 * follows, look at the decision (holding briefly for it) and ask again while it is still open.
 */
async function reviewRound(s: Step, action: Action, review: InputRequiredContext): Promise<Answer> {
  const { core, call } = s;
  const state = review.state?.a === action.id ? review.state : undefined;
  if (state === undefined) return askForReview(core.stateCodec, action, core.settings.reviewUrl, s.entry.name, s.key, 1);
  if (review.response === 'decline' || review.response === 'cancel') {
    await core.withdraw(
      { key: s.key, actionId: action.id },
      `the user ${review.response === 'decline' ? 'declined' : 'dismissed'} the review`,
    );
    return textResult(`NOT EXECUTED — the user did not go ahead with "${s.entry.name}"; action ${action.id} was withdrawn.`, true);
  }
  const outcome = await holdForDecision(core.cs, action, {
    budgetMs: core.settings.hold.budgetMs,
    intervalMs: core.settings.hold.progressIntervalMs,
    clock: core.clock,
    signal: call.signal,
    progress: call.progress,
    describe: (a) => waitingMessage(a, core.settings.reviewUrl),
  });
  if (outcome.kind === 'cancelled') {
    await core.withdraw({ key: s.key, actionId: action.id }, 'the MCP client cancelled the call');
    return cancelledResult(outcome.action);
  }
  if (outcome.kind === 'decided') return advance({ ...s, call: { ...call, review: undefined } }, outcome.action);
  if (state.r >= MAX_ROUNDS) return pendingResult(outcome.action, core.settings.reviewUrl, s.entry.name);
  return askForReview(core.stateCodec, outcome.action, core.settings.reviewUrl, s.entry.name, s.key, state.r + 1);
}

/** Runs the approved action; identical calls that attach meanwhile share this one run. */
async function execute(s: Step, action: Action): Promise<Answer> {
  const { core, call, entry, key } = s;
  if (action.tool !== entry.tool.name || action.resource !== entry.upstream.name) {
    // Only reachable through a state or open call that names another tool's action: never run it.
    core.registry.settle(key, action.id);
    return textResult(`NOT EXECUTED — action ${action.id} is for "${action.tool}" on "${action.resource}", not "${entry.name}".`, true);
  }
  // The tool may change (a restart, list_changed) while its call is held: the approval is for this one.
  const reviewed = (action.metadata.mcp as { definition?: unknown } | undefined)?.definition;
  const definition = typeof reviewed === 'string' ? reviewed : undefined;
  const open = core.registry.find(key);
  const ctx = runContext(core, call);
  const shared = open?.actionId === action.id ? open : undefined;
  if (shared && shared.running === undefined) shared.running = runApproved(entry, action, ctx, definition);
  const run = shared?.running ?? runApproved(entry, action, ctx, definition);
  try {
    return await run;
  } finally {
    core.registry.settle(key, action.id);
  }
}

function runContext(core: ProxyCore, call: DownstreamCall): RunContext {
  return {
    cs: core.cs,
    signal: call.signal,
    progress: call.progress,
    upstreamTimeoutMs: core.settings.upstreamTimeoutMs,
    log: core.log,
    track: (t: Promise<unknown>) => core.track(t),
    trace: call.trace,
  };
}
