import type { Client } from './client.js';
import { ApprovalRefused, CountersignError, refusalMessage } from './errors.js';
import { ApprovalPending, isApprovalPending, toApprovalRequired } from './harness.js';
import type { Action, ProposedAction } from './types.js';

/** Per-call context a framework passes along: the tool-call id makes retries and restarts safe. */
export interface CallContext {
  toolCallId?: string;
  signal?: AbortSignal;
  /** Set by guard when it runs the tool: the approved action (e.g. the `parent_id` for a subagent's calls). */
  action?: Action;
}

export interface GuardOptions<A extends Record<string, unknown>> {
  /** The tool's name as policies see it. */
  tool: string;
  resource?: string | ((args: A) => string | undefined);
  purpose?: string | ((args: A) => string | undefined);
  annotations?: ProposedAction['annotations'];
  session_id?: string;
  parent_id?: string;
  on_behalf_of?: string;
  metadata?: Record<string, unknown>;
  /**
   * The idempotency key for a call. Default: derived from `ctx.toolCallId`, so a crashed and
   * restarted agent re-attaches to the same action and an approved action runs at most once.
   */
  idempotencyKey?: (args: A, ctx: CallContext) => string | undefined;
  /** On deny/expiry: `'return'` (default) resolves with a Refusal the model can read; `'throw'` rejects with ApprovalRefused. */
  onRefusal?: 'return' | 'throw';
  /** Longest wait for a decision, in ms (default: until the gateway decides or the action expires). */
  timeout?: number;
  /**
   * While the action awaits review: `'wait'` (default) holds the call until it is decided; `'pause'`
   * throws {@link ApprovalPending} at once, so a turn-based loop can end its turn on
   * `tool.approval_required` and make the same call (same `toolCallId`) next turn to run or be refused.
   */
  onPending?: 'wait' | 'pause';
  /**
   * The tool itself can pause and resume across turns (e.g. it runs a subagent whose own calls pause).
   * Its receipt is redeemed on the first turn; later turns of the same call run it again to continue,
   * and an {@link ApprovalPending} from inside is passed up instead of being reported as a failure.
   */
  resumable?: boolean;
}

/** What a guarded tool returns instead of running, when the action was not approved. */
export interface Refusal {
  refused: true;
  status: Action['status'];
  reason: string | null;
  decided_by: string | null;
  /** For the model: "Denied by alice@example.com: not during the freeze. The tool "deploy" was not run." */
  message: string;
  action_id: string;
}

export type Guarded<A extends Record<string, unknown>, R> = (args: A, ctx?: CallContext) => Promise<R | Refusal>;

export function isRefusal(v: unknown): v is Refusal {
  return typeof v === 'object' && v !== null && (v as Refusal).refused === true;
}

const resolveOption = <A>(v: string | ((a: A) => string | undefined) | undefined, args: A) => (typeof v === 'function' ? v(args) : v);

/**
 * Wraps a tool so every call is proposed, waits for its decision, and runs
 * with the **approved** arguments (the edited ones, if a reviewer edited
 * them) after redeeming the receipt, then reports the result.
 *
 * @example
 * import { createClient, guard, isRefusal } from '@countersign/sdk';
 *
 * const deploy = guard(cs, async (args: { env: string }) => runDeploy(args.env), {
 *   tool: 'deploy',
 *   resource: (a) => `env:${a.env}`,
 * });
 * const out = await deploy({ env: 'production' }, { toolCallId: call.id }); // waits for a person
 * if (isRefusal(out)) return out.message; // "Denied by alice@example.com: not during the freeze. …"
 */
export function guard<A extends Record<string, unknown>, R>(
  client: Client,
  fn: (args: A, ctx: CallContext) => R | Promise<R>,
  opts: GuardOptions<A>,
): Guarded<A, R> {
  return async (args: A, ctx: CallContext = {}) => {
    const key = guardKey(opts, args, ctx);
    const proposal = guardProposal(opts, args);
    // An action the policy allows at once comes back redeemed: no second round trip before running it.
    const proposed = await client.propose(proposal, key ? { idempotencyKey: key, redeem: true } : { redeem: true });
    if (proposed.status === 'pending' && opts.onPending === 'pause') throw new ApprovalPending(toApprovalRequired(proposed));
    const action =
      proposed.status === 'pending'
        ? await client.waitForDecision(proposed.id, {
            ...(ctx.signal ? { signal: ctx.signal } : {}),
            ...(opts.timeout !== undefined ? { timeout: opts.timeout } : {}),
          })
        : proposed;
    switch (action.status) {
      case 'pending':
        throw new CountersignError('timeout', `no decision on action ${action.id} yet; the tool "${opts.tool}" was not run`);
      case 'executed':
        // Already run by an earlier incarnation of this agent: never run twice.
        return action.result?.output as R;
      case 'failed':
        throw new CountersignError('failed', `the tool "${opts.tool}" already ran for action ${action.id} and failed`, undefined, {
          output: action.result?.output,
        });
      case 'denied':
      case 'expired':
      case 'cancelled': {
        if (opts.onRefusal === 'throw') throw new ApprovalRefused(action);
        return {
          refused: true,
          status: action.status,
          reason: action.reason,
          decided_by: action.decided_by?.label ?? null,
          message: refusalMessage(action),
          action_id: action.id,
        };
      }
      case 'approved':
        return run(client, fn, action, ctx, opts.resumable === true);
    }
  };
}

/**
 * The idempotency key guard() uses for a call. Adapters that look a call's action up before guard() runs it
 * (e.g. to answer a framework's own approval request) use this and {@link guardProposal}, so every look-up
 * is the same request to the gateway (a different body under a used key is answered with 409).
 */
export function guardKey<A extends Record<string, unknown>>(opts: GuardOptions<A>, args: A, ctx: CallContext): string | undefined {
  if (opts.idempotencyKey) return opts.idempotencyKey(args, ctx);
  return ctx.toolCallId ? `tool-call:${opts.tool}:${ctx.toolCallId}` : undefined;
}

/** The body guard() proposes for a call; see {@link guardKey}. */
export function guardProposal<A extends Record<string, unknown>>(opts: GuardOptions<A>, args: A): ProposedAction {
  const proposal: ProposedAction = { tool: opts.tool, arguments: args };
  const resource = resolveOption(opts.resource, args);
  const purpose = resolveOption(opts.purpose, args);
  if (resource !== undefined) proposal.resource = resource;
  if (purpose !== undefined) proposal.purpose = purpose;
  for (const k of ['annotations', 'session_id', 'parent_id', 'on_behalf_of', 'metadata'] as const) {
    if (opts[k] !== undefined) (proposal as unknown as Record<string, unknown>)[k] = opts[k];
  }
  return proposal;
}

async function run<A extends Record<string, unknown>, R>(
  client: Client,
  fn: (args: A, ctx: CallContext) => R | Promise<R>,
  action: Action,
  ctx: CallContext,
  resumable: boolean,
): Promise<R> {
  try {
    if (action.redeemed !== true && !(resumable && action.redeemed_at)) await client.redeem(action);
  } catch (e) {
    if (!(e instanceof CountersignError && e.code === 'receipt_used')) throw e;
    // Redeemed by an earlier incarnation that died before reporting: running again could run it twice.
    // A resumable tool redeemed it on an earlier turn of this same call and continues where it paused.
    if (!resumable) {
      throw new CountersignError('receipt_used', `action ${action.id} was already started once and may have run; not running it again`);
    }
  }
  let output: R;
  try {
    output = await fn(action.arguments as A, { ...ctx, action });
  } catch (e) {
    // A pause inside a resumable tool is not an outcome: the same call continues next turn.
    if (!(isApprovalPending(e) && resumable)) {
      await client.reportResult(action.id, 'failed', { error: (e as Error).message }).catch(() => undefined);
    }
    throw e;
  }
  await client.reportResult(action.id, 'succeeded', toJson(output)).catch(() => undefined);
  return output;
}

function toJson(v: unknown): unknown {
  try {
    return v === undefined ? null : JSON.parse(JSON.stringify(v));
  } catch {
    return null;
  }
}
