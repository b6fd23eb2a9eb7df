import { AIMessage, type BaseMessage, type ToolCall, ToolMessage } from '@langchain/core/messages';
import canonicalizeImpl from 'canonicalize';
import type { ActionRequest, Decision, DecisionType, HITLRequest, HITLResponse, ReviewConfig } from 'langchain';
import type { Client } from '../../client.js';
import { CountersignError, refusalMessage } from '../../errors.js';
import type { Action } from '../../types.js';
import { type CallProposalOptions, describeCall, toolCallKey } from './shared.js';

const canonicalize = canonicalizeImpl as unknown as (value: unknown) => string | undefined;
const sameArgs = (a: unknown, b: unknown) => canonicalize(a) === canonicalize(b);

/** What `agent.invoke(…)` returns when the human-in-the-loop middleware paused it: the messages and the interrupt. */
export interface InterruptedState {
  messages: readonly BaseMessage[];
  __interrupt__?: readonly { id?: string; value?: unknown }[];
}

/** Options for {@link answerHitlInterrupt}: how each tool call is proposed, and how long to wait. */
export interface HitlAnswerOptions extends CallProposalOptions {
  /** Stop waiting for decisions (the interrupt is then not answered). */
  signal?: AbortSignal;
}

/** Countersign's answer to a human-in-the-loop interrupt. */
export interface HitlAnswer {
  /** The interrupt answered, for `new Command({ resume: { [interruptId]: resume } })` when several are pending. */
  interruptId: string | undefined;
  /** The resume value: `new Command({ resume })`. One decision per action request, in order. */
  resume: HITLResponse;
  /** The decided actions, one per action request, in order. */
  actions: Action[];
  /**
   * After the resumed run: reports to the gateway how each approved call went, from the ToolMessages in
   * `messages` (status `error` → failed). Returns the actions reported. Call it once.
   */
  report(messages: readonly BaseMessage[]): Promise<Action[]>;
}

interface Decided {
  action: Action;
  call: ToolCall;
}

/**
 * Answers the interrupt of langchain's built-in `humanInTheLoopMiddleware` from Countersign decisions, for
 * an agent that already pauses for review (e.g. one served by LangGraph) and should take its decisions from
 * Countersign's policies and reviewers.
 *
 * Each action request is proposed (keyed by its tool-call id, found in the interrupted state's last AI
 * message, so asking again re-attaches to the same actions) and all are awaited. The decisions become the
 * resume value: approved → `approve`, or `edit` with the approved arguments when a reviewer edited them;
 * denied, expired or cancelled → `reject` with the refusal message the model then reads. Approved
 * receipts are redeemed before this returns, because the agent runs those tools as soon as it resumes.
 *
 * The built-in middleware runs no call of an interrupt in which any call was rejected: it sends the model
 * back with the rejections instead. So when any decision is a rejection, no receipt is redeemed; the
 * approved actions are never run and expire with their execution window (the model may propose them again).
 *
 * Returns `undefined` when the state holds no human-in-the-loop interrupt. Throws when a decision does not
 * come within `timeout`, when the interrupt was already answered (an action already ran), or when the
 * interrupt's review config does not allow the decision to be expressed (e.g. a denial where `reject` is
 * not allowed).
 *
 * @example
 * import { Command } from '@langchain/langgraph';
 * import { createAgent, humanInTheLoopMiddleware } from 'langchain';
 * import { answerHitlInterrupt } from '@countersign/sdk/langchain';
 *
 * const agent = createAgent({ model, tools, checkpointer, middleware: [humanInTheLoopMiddleware({ interruptOn: { deploy: true } })] });
 * const config = { configurable: { thread_id: runId } };
 * let state = await agent.invoke({ messages: [{ role: 'user', content: 'Ship it' }] }, config);
 * for (let answer = await answerHitlInterrupt(cs, state); answer; answer = await answerHitlInterrupt(cs, state)) {
 *   state = await agent.invoke(new Command({ resume: answer.resume }), config);
 *   await answer.report(state.messages);
 * }
 */
export async function answerHitlInterrupt(
  client: Client,
  state: InterruptedState,
  options: HitlAnswerOptions = {},
): Promise<HitlAnswer | undefined> {
  const interrupt = hitlInterrupt(state);
  if (!interrupt) return undefined;
  const { actionRequests, reviewConfigs } = interrupt.value;
  const decided = await decideAll(client, matchToolCalls(actionRequests, state.messages), options);
  const decisions = decided.map(({ action, call }, i) => decisionFor(action, call, reviewConfigs[i]));
  const toRun = decisions.some((d) => d.type === 'reject') ? [] : decided;
  await Promise.all(toRun.map(({ action }) => redeem(client, action)));
  return {
    interruptId: interrupt.id,
    resume: { decisions },
    actions: decided.map((d) => d.action),
    report: (messages) => reportResults(client, toRun, messages),
  };
}

function hitlInterrupt(state: InterruptedState): { id: string | undefined; value: HITLRequest } | undefined {
  const found = (state.__interrupt__ ?? []).filter((i) => isHitlRequest(i.value));
  if (found.length > 1) throw new Error('answerHitlInterrupt: the state holds several human-in-the-loop interrupts; answer one at a time');
  const [first] = found;
  return first ? { id: first.id, value: first.value as HITLRequest } : undefined;
}

function isHitlRequest(v: unknown): v is HITLRequest {
  const r = v as Partial<HITLRequest> | null;
  return typeof r === 'object' && r !== null && Array.isArray(r.actionRequests) && Array.isArray(r.reviewConfigs);
}

/**
 * The tool call behind each action request. The middleware builds its requests, in order, from the calls of
 * the last AI message that need review, so they are matched in order by name and arguments.
 */
function matchToolCalls(requests: readonly ActionRequest[], messages: readonly BaseMessage[]): ToolCall[] {
  const last = [...messages].reverse().find((m) => AIMessage.isInstance(m));
  const candidates = last?.tool_calls ?? [];
  let from = 0;
  return requests.map((request, i) => {
    const at = candidates.findIndex((c, j) => j >= from && c.name === request.name && sameArgs(c.args, request.args));
    const call = candidates[at];
    if (!call) {
      throw new Error(`answerHitlInterrupt: action request #${i} ("${request.name}") matches no tool call of the last AI message`);
    }
    from = at + 1;
    return call;
  });
}

/** Proposes every call and waits for all decisions; the first failure stops the other waits. */
async function decideAll(client: Client, calls: readonly ToolCall[], options: HitlAnswerOptions): Promise<Decided[]> {
  const stop = new AbortController();
  const abort = () => stop.abort();
  options.signal?.addEventListener('abort', abort, { once: true });
  try {
    return await Promise.all(
      calls.map((call) =>
        decide(client, call, options, stop.signal).then(
          (action) => ({ action, call }),
          (e: unknown) => {
            stop.abort();
            throw e;
          },
        ),
      ),
    );
  } finally {
    options.signal?.removeEventListener('abort', abort);
  }
}

async function decide(client: Client, call: ToolCall, options: HitlAnswerOptions, signal: AbortSignal): Promise<Action> {
  const proposal = { ...describeCall(call, options), arguments: call.args };
  const proposed = await client.propose(proposal, call.id ? { idempotencyKey: toolCallKey(proposal.tool, call.id) } : {});
  const action = proposed.status === 'pending' ? await client.waitForDecision(proposed.id, { signal, timeout: options.timeout }) : proposed;
  switch (action.status) {
    case 'pending':
      throw new CountersignError('timeout', `no decision on action ${action.id} yet; the interrupt was not answered`);
    case 'executed':
    case 'failed':
      // Only an earlier answer to this same interrupt gets this far: answering again could run it twice.
      throw new CountersignError('conflict', `action ${action.id} already ran (${action.status}); this interrupt was answered before`);
    default:
      return action;
  }
}

function decisionFor(action: Action, call: ToolCall, review: ReviewConfig | undefined): Decision {
  const allowed: readonly DecisionType[] = review?.allowedDecisions ?? ['approve', 'edit', 'reject'];
  if (action.status !== 'approved') return reject(allowed, call, refusalMessage(action));
  const edited = !sameArgs(action.arguments, call.args);
  if (!edited && allowed.includes('approve')) return { type: 'approve' };
  // The approved arguments are final: a call approved with edits never runs with the model's own.
  if (edited && allowed.includes('edit')) return { type: 'edit', editedAction: { name: call.name, args: action.arguments } };
  const what = edited ? 'edits' : 'approvals';
  return reject(allowed, call, `Approved in Countersign, but this agent does not accept ${what} for "${call.name}". The tool was not run.`);
}

function reject(allowed: readonly DecisionType[], call: ToolCall, message: string): Decision {
  if (!allowed.includes('reject')) {
    throw new Error(`answerHitlInterrupt: cannot answer for "${call.name}": ${message} (its review config does not allow "reject")`);
  }
  return { type: 'reject', message };
}

async function redeem(client: Client, action: Action): Promise<void> {
  try {
    await client.redeem(action);
  } catch (e) {
    if (e instanceof CountersignError && e.code === 'receipt_used') {
      // Redeemed by an earlier answer whose run may have started: resuming again could run it twice.
      throw new CountersignError('receipt_used', `action ${action.id} was already started once and may have run; not answering again`);
    }
    throw e;
  }
}

async function reportResults(client: Client, ran: readonly Decided[], messages: readonly BaseMessage[]): Promise<Action[]> {
  const results = new Map<string, ToolMessage>();
  for (const m of messages) if (ToolMessage.isInstance(m)) results.set(m.tool_call_id, m);
  const reported: Action[] = [];
  for (const { action, call } of ran) {
    const result = call.id === undefined ? undefined : results.get(call.id);
    if (!result) continue;
    const failed = result.status === 'error';
    reported.push(await client.reportResult(action.id, failed ? 'failed' : 'succeeded', failed ? { error: result.text } : result.content));
  }
  return reported;
}
