import { type Action, type Client, CountersignError, refusalMessage } from '@countersign/sdk';
import { assertNever, CsError, ERROR_CODES, type ErrorCode } from '../../lib/errors.js';
import type { Outcome } from '../exit-codes.js';
import { safeLine } from '../output.js';

/**
 * What `countersign propose` prints on stdout: one JSON object, every key always present (null when it
 * does not apply), so a script can read `.arguments` with jq without guarding. Documented in docs/ci.md.
 */
export interface ProposeResult {
  outcome: Outcome;
  id: string;
  status: Action['status'];
  tool: string;
  /** What to run: the reviewer's edited arguments if they edited them. */
  arguments: Record<string, unknown>;
  /** What was proposed, when a reviewer edited it; else null. */
  original_arguments: Record<string, unknown> | null;
  edited: boolean;
  reason: string | null;
  decided_by: Action['decided_by'];
  decided_at: string | null;
  /** The signed approval receipt (only when approved): the licence an executor can verify offline. */
  receipt: string | null;
  /** When the receipt was redeemed (by this run with --redeem, or earlier); null if never. */
  redeemed_at: string | null;
  /** Where a person reviews the action. */
  url: string;
}

type Progress = (line: string) => void;

/** The outcome of a decided (or still pending) action, redeeming an approval once when asked to. */
export async function settle(cs: Client, a: Action, redeem: boolean, url: string, progress: Progress): Promise<ProposeResult> {
  switch (a.status) {
    case 'pending':
      progress(`action ${a.id} is still pending: nothing may run yet. Run the same command again (same --idempotency-key) to wait for it.`);
      return result('pending', a, url, null);
    case 'denied':
    case 'expired':
    case 'cancelled':
      progress(safeLine(refusalMessage(a)));
      return result(a.status, a, url, null);
    case 'approved':
      return approved(cs, a, redeem, url, progress);
    case 'executed':
    case 'failed':
      // A result was reported, which only follows a redemption: some run already used this approval.
      if (redeem) return alreadyRedeemed(a, url, progress, `its result was reported (${a.status})`);
      progress(`${approvedLine(a)}; it already ran (${a.status})`);
      return result('approved', a, url, null);
    default:
      return assertNever(a.status, 'action status');
  }
}

async function approved(cs: Client, a: Action, redeem: boolean, url: string, progress: Progress): Promise<ProposeResult> {
  if (!redeem) {
    progress(`${approvedLine(a)}${a.redeemed_at ? `; note: its receipt was already redeemed at ${a.redeemed_at}` : ''}`);
    return result('approved', a, url, null);
  }
  // Approved by the policy in the proposing request: that request redeemed it, and only that answer says so.
  if (a.redeemed === true) {
    progress(`${approvedLine(a)}; receipt redeemed: this run is licensed once`);
    return result('approved', a, url, a.redeemed_at);
  }
  try {
    const r = await cs.redeem(a);
    progress(`${approvedLine(a)}; receipt redeemed at ${r.redeemed_at}: this run is licensed once`);
    return result('approved', a, url, r.redeemed_at);
  } catch (e) {
    if (e instanceof CountersignError && e.code === 'receipt_used') return alreadyRedeemed(a, url, progress, safeLine(e.message));
    throw asCsError(e);
  }
}

function alreadyRedeemed(a: Action, url: string, progress: Progress, why: string): ProposeResult {
  progress(
    `action ${a.id} was approved, but its approval was already used by an earlier run (${why}). ` +
      'It licenses one run and that run may have happened: not running again. Propose anew (a new --idempotency-key) to ask again.',
  );
  return result('already_redeemed', a, url, null);
}

function approvedLine(a: Action): string {
  const d = a.decided_by;
  const by = d === null ? '' : d.type === 'user' ? ` by ${d.label}` : ` by ${d.type}${d.label ? ` "${d.label}"` : ''}`;
  return safeLine(`approved${by}${a.edited ? ' with edited arguments' : ''}`);
}

function result(outcome: Outcome, a: Action, url: string, redeemedNow: string | null): ProposeResult {
  return {
    outcome,
    id: a.id,
    status: a.status,
    tool: a.tool,
    arguments: a.arguments,
    original_arguments: a.original_arguments,
    edited: a.edited,
    reason: a.reason,
    decided_by: a.decided_by,
    decided_at: a.decided_at,
    receipt: outcome === 'approved' ? a.receipt : null,
    redeemed_at: redeemedNow ?? a.redeemed_at,
    url,
  };
}

/** A gateway error from the SDK as the CLI's domain error, so it exits with the documented code (unknown codes: internal). */
export function asCsError(e: unknown): unknown {
  if (!(e instanceof CountersignError)) return e;
  const code = (ERROR_CODES as readonly string[]).includes(e.code) ? (e.code as ErrorCode) : 'internal';
  return new CsError(code, e.message, { cause: e });
}
