import canonicalizeImpl from 'canonicalize';
import { createLocalJWKSet, decodeProtectedHeader, errors, type JSONWebKeySet, jwtVerify } from 'jose';

/**
 * Offline verification of a Countersign approval receipt, for executors that
 * run elsewhere: needs only the gateway's JWKS. Dependency-light (jose,
 * canonicalize, WebCrypto) so it runs in Node 20+ and other fetch-capable runtimes.
 */

const canonicalize = canonicalizeImpl as unknown as (value: unknown) => string | undefined;

export const RECEIPT_TYPE = 'countersign-receipt+jwt';

/** What a receipt says may run. `agent` is the proposing agent's id (also the receipt's audience). */
export interface ReceiptAction {
  id: string;
  agent: string;
  tool: string;
  arguments: Record<string, unknown>;
  resource?: string | null;
}

export interface ReceiptClaims {
  iss: string;
  sub: string;
  aud: string;
  jti: string;
  iat: number;
  exp: number;
  cs: {
    v: 1;
    action_sha256: string;
    tool: string;
    policy_hash: string | null;
    approved_by: { type: 'user' | 'policy' | 'grant'; id: string | null; label: string | null };
    approvers: string[];
  };
}

export type ReceiptErrorCode =
  | 'receipt_invalid'
  | 'receipt_unsigned'
  | 'receipt_bad_algorithm'
  | 'receipt_expired'
  | 'receipt_wrong_action'
  | 'receipt_arguments_changed';

export class ReceiptError extends Error {
  constructor(
    readonly code: ReceiptErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ReceiptError';
  }
}

// Importing keys is most of a verification's cost; an executor passes the same JWKS object each time.
const keySets = new WeakMap<JSONWebKeySet, ReturnType<typeof createLocalJWKSet>>();
function keySetFor(jwks: JSONWebKeySet): ReturnType<typeof createLocalJWKSet> {
  let set = keySets.get(jwks);
  if (!set) {
    set = createLocalJWKSet(jwks);
    keySets.set(jwks, set);
  }
  return set;
}

/** The bytes a receipt binds: RFC 8785 canonical JSON of what may run. */
export function receiptSubject(a: Omit<ReceiptAction, 'id'>): string {
  const out = canonicalize({ agent: a.agent, arguments: a.arguments, resource: a.resource ?? null, tool: a.tool });
  if (out === undefined) throw new TypeError('action cannot be canonicalized');
  return out;
}

export async function actionDigest(a: Omit<ReceiptAction, 'id'>): Promise<string> {
  const bytes = new TextEncoder().encode(receiptSubject(a));
  const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(hash, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Checks the token's form and algorithm before any key is touched: unsigned, `none` and HMAC tokens never verify. */
export function checkForm(token: string): void {
  const parts = token.split('.');
  if (parts.length !== 3) throw new ReceiptError('receipt_invalid', 'not a compact JWS (three dot-separated parts)');
  let alg: unknown;
  try {
    alg = decodeProtectedHeader(token).alg;
  } catch {
    throw new ReceiptError('receipt_invalid', 'the receipt header is not valid');
  }
  if (alg === 'none' || parts[2] === '') throw new ReceiptError('receipt_unsigned', 'the receipt is unsigned');
  if (alg !== 'EdDSA') throw new ReceiptError('receipt_bad_algorithm', `receipts are signed with EdDSA; ${String(alg)} is refused`);
}

/**
 * Verifies signature (EdDSA only, key from the JWKS by kid), expiry, audience
 * (the agent) and that `action` is exactly what was approved. It cannot know
 * whether the receipt was already used: redeem it at the gateway for that.
 *
 * @example
 * import { verifyReceipt } from '@countersign/sdk/receipts';
 *
 * const jwks = await (await fetch('https://countersign.example.com/.well-known/jwks.json')).json();
 * // Throws ReceiptError ('receipt_invalid', 'receipt_expired', 'receipt_arguments_changed', …) unless
 * // this exact tool, arguments and resource were approved for this agent.
 * const claims = await verifyReceipt(job.receipt, { id: job.actionId, tool: 'deploy', arguments: job.args, resource: job.resource }, jwks);
 */
export async function verifyReceipt(
  token: string,
  action: ReceiptAction,
  jwks: JSONWebKeySet,
  opts: { now?: Date; issuer?: string } = {},
): Promise<ReceiptClaims> {
  checkForm(token);
  let claims: ReceiptClaims;
  try {
    const { payload } = await jwtVerify(token, keySetFor(jwks), {
      algorithms: ['EdDSA'],
      typ: RECEIPT_TYPE,
      audience: action.agent,
      ...(opts.issuer ? { issuer: opts.issuer } : {}),
      ...(opts.now ? { currentDate: opts.now } : {}),
      requiredClaims: ['sub', 'jti', 'exp', 'iat'],
    });
    claims = payload as unknown as ReceiptClaims;
  } catch (e) {
    if (e instanceof errors.JWTExpired) throw new ReceiptError('receipt_expired', 'the receipt has expired; the action may no longer run');
    if (e instanceof errors.JWTClaimValidationFailed)
      throw new ReceiptError('receipt_invalid', `the receipt's ${e.claim} claim is wrong: ${e.reason}`);
    if (e instanceof errors.JWSSignatureVerificationFailed || e instanceof errors.JWKSNoMatchingKey) {
      throw new ReceiptError('receipt_invalid', 'the receipt signature does not verify with the gateway keys');
    }
    throw new ReceiptError('receipt_invalid', `the receipt does not verify: ${(e as Error).message}`);
  }
  if (claims.sub !== action.id)
    throw new ReceiptError('receipt_wrong_action', `this receipt approves action ${claims.sub}, not ${action.id}`);
  if (claims.cs?.v !== 1) throw new ReceiptError('receipt_invalid', 'unknown receipt version');
  if ((await actionDigest(action)) !== claims.cs.action_sha256) {
    throw new ReceiptError('receipt_arguments_changed', 'the tool, arguments or resource differ from what was approved');
  }
  return claims;
}
