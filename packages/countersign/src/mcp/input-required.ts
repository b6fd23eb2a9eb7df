import { randomBytes } from 'node:crypto';
import type { Action } from '@countersign/sdk';
import {
  CLIENT_CAPABILITIES_META_KEY,
  type ClientCapabilities,
  createRequestStateCodec,
  type InputRequiredResult,
  inputRequired,
  type RequestStateCodec,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { approvers, reviewUrl } from './results.js';

/**
 * The multi-round-trip path (protocol revision 2026-07-28) for clients that can open a URL for
 * their user: instead of holding the call, the proxy answers `input_required` with a URL
 * elicitation pointing at the action's review page. The host shows it to its own user, who
 * reviews the action there (the gateway still decides who may approve: an agent-side "yes" is
 * never an approval) and then continues; the client retries the call carrying the proxy's
 * signed state, and the proxy looks at the decision.
 */

/** What the proxy keeps across rounds, inside the client's echoed (HMAC-signed) `requestState`. */
export interface ApprovalState {
  /** The action id. */
  a: string;
  /** The call key it was proposed for: a retry with other arguments is a different call. */
  k: string;
  /** Round number, 1-based. */
  r: number;
}

export const APPROVAL_INPUT_KEY = 'countersign_approval';
/** Rounds before the call answers "pending" like a spent hold budget. */
export const MAX_ROUNDS = 5;

export type ApprovalResponse = 'accept' | 'decline' | 'cancel' | 'none';

export interface InputRequiredContext {
  /** The verified state of an earlier round, when this call is a retry. */
  state: ApprovalState | undefined;
  /** The user's answer to the URL elicitation of that round. */
  response: ApprovalResponse;
}

/** A codec with a per-process key: one proxy process serves every round of a flow. */
export function createApprovalStateCodec(): RequestStateCodec<ApprovalState> {
  return createRequestStateCodec<ApprovalState>({ key: randomBytes(32), ttlSeconds: 3600 });
}

/**
 * The multi-round-trip context of a `tools/call`, or undefined when the path does not apply:
 * disabled, a 2025-era request (no per-request envelope), or a client that did not declare URL
 * elicitation on this request.
 */
export function readInputRequiredContext(ctx: ServerContext, enabled: boolean): InputRequiredContext | undefined {
  if (!enabled) return undefined;
  const envelope = ctx.mcpReq.envelope as Record<string, unknown> | undefined;
  const caps = envelope?.[CLIENT_CAPABILITIES_META_KEY] as ClientCapabilities | undefined;
  if (!caps?.elicitation?.url) return undefined;
  const state = ctx.mcpReq.requestState<unknown>();
  const answer = (ctx.mcpReq.inputResponses?.[APPROVAL_INPUT_KEY] as { action?: unknown } | undefined)?.action;
  return {
    state: isApprovalState(state) ? state : undefined,
    response: answer === 'accept' || answer === 'decline' || answer === 'cancel' ? answer : 'none',
  };
}

/** Asks the host's user to review the action at its URL, then retry. */
export async function askForReview(
  codec: RequestStateCodec<ApprovalState>,
  action: Action,
  urlTemplate: string,
  exposedName: string,
  key: string,
  round: number,
): Promise<InputRequiredResult> {
  const url = reviewUrl(urlTemplate, action.id);
  const message =
    round === 1
      ? `"${exposedName}" needs approval by ${approvers(action)} before it runs. Review action ${action.id} at the link, then continue.`
      : `Action ${action.id} ("${exposedName}") is still waiting for approval by ${approvers(action)}. Continue once it is decided.`;
  return inputRequired({
    inputRequests: { [APPROVAL_INPUT_KEY]: inputRequired.elicitUrl({ message, url }) },
    requestState: await codec.mint({ a: action.id, k: key, r: round }),
  });
}

function isApprovalState(v: unknown): v is ApprovalState {
  const s = v as ApprovalState | undefined;
  return typeof s?.a === 'string' && typeof s.k === 'string' && Number.isInteger(s.r) && s.r >= 1;
}
