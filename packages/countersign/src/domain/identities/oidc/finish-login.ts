import { timingSafeEqual } from 'node:crypto';
import * as client from 'openid-client';
import type { Deps } from '../../../deps.js';
import { CsError, isCsError } from '../../../lib/errors.js';
import { mapClaims } from './map-claims.js';
import type { OidcRelyingParty } from './relying-party.js';
import { type ClientInfo, type OidcSignIn, signInPerson } from './sign-in-person.js';
import { hashState } from './start-login.js';

export interface FinishedLogin extends OidcSignIn {
  returnTo: string;
}

interface Attempt {
  nonce: string;
  code_verifier: string;
  return_to: string;
  max_age: number | null;
}

/**
 * Completes a sign-in when the IdP redirects back: the state must be the one this browser started with
 * (its cookie) and an open attempt (used once, whatever happens next); the code is exchanged with the PKCE
 * verifier and the ID token validated by openid-client (signature against the IdP's JWKS, issuer, audience,
 * expiry, nonce, and `auth_time` when `max_age` was asked). Then the person is found or created and a
 * session opened. `query` is the callback's query string as received.
 */
export async function finishOidcLogin(
  deps: Deps,
  rp: OidcRelyingParty,
  input: { query: string; browserState: string | undefined; client: ClientInfo },
): Promise<FinishedLogin> {
  const callbackUrl = new URL(rp.config.redirectUri);
  callbackUrl.search = input.query;
  const state = callbackUrl.searchParams.get('state');
  if (!state) throw new CsError('invalid_request', 'the identity provider answered without a state; start signing in again');
  if (!input.browserState || !sameString(state, input.browserState)) {
    // Login CSRF: someone else's sign-in (an attacker's account) must not complete in this browser.
    throw new CsError('invalid_request', 'this sign-in was not started in this browser; start signing in again');
  }
  const attempt = await consumeAttempt(deps, state);
  const config = await rp.configuration();
  let claims: Record<string, unknown>;
  try {
    const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
      expectedState: state,
      expectedNonce: attempt.nonce,
      pkceCodeVerifier: attempt.code_verifier,
      ...(attempt.max_age === null ? {} : { maxAge: attempt.max_age }),
    });
    const idToken = tokens.claims();
    if (!idToken) throw new Error('the token response has no ID token');
    claims = idToken as unknown as Record<string, unknown>;
  } catch (e) {
    const reason = refusalReason(e);
    await auditRefusal(deps, { issuer: rp.config.issuer, subject: null, reason });
    throw new CsError('unauthenticated', `sign-in with the identity provider was refused: ${reason}`);
  } finally {
    rp.remember(config);
  }
  try {
    const mapped = mapClaims(rp.config, claims, attempt.max_age !== null);
    const done = await signInOnce(deps, () =>
      deps.committer.run((tx) => signInPerson(tx, deps, mapped, rp.config.jitProvisioning, input.client)),
    );
    if (done.accessChanged) deps.identities.changed();
    return { ...done, returnTo: attempt.return_to };
  } catch (e) {
    if (isCsError(e) && e.code === 'forbidden') {
      await auditRefusal(deps, { issuer: String(claims.iss), subject: String(claims.sub), reason: e.message });
    }
    throw e;
  }
}

/**
 * The first sign-in of a new IdP account can run on two gateways at once (two tabs, a double click through
 * a load balancer): both find no link and both provision; the later insert meets the earlier's unique key.
 * Run once more: the link is there now, and this browser signs in as the person the other one created.
 */
async function signInOnce(deps: Deps, run: () => Promise<OidcSignIn>): Promise<OidcSignIn> {
  try {
    return await run();
  } catch (e) {
    if (!isCsError(e) || !deps.db.caps.isUniqueViolation(e.cause)) throw e;
    return run();
  }
}

/** Marks the attempt used (compare-and-set), so a state works once on every gateway sharing the database. */
async function consumeAttempt(deps: Deps, state: string): Promise<Attempt> {
  const hash = hashState(state);
  return deps.committer.run(async (tx) => {
    const row = await tx.db
      .selectFrom('oidc_login_attempts')
      .select(['nonce', 'code_verifier', 'return_to', 'max_age', 'expires_at', 'consumed_at'])
      .where('state_hash', '=', hash)
      .executeTakeFirst();
    const refused = new CsError('invalid_request', 'this sign-in is unknown, expired or already used; start signing in again');
    if (!row || row.consumed_at !== null || Number(row.expires_at) <= tx.now) throw refused;
    const won = await tx.db
      .updateTable('oidc_login_attempts')
      .set({ consumed_at: tx.now })
      .where('state_hash', '=', hash)
      .where('consumed_at', 'is', null)
      .executeTakeFirst();
    if (Number(won.numUpdatedRows) !== 1) throw refused;
    return {
      nonce: row.nonce,
      code_verifier: row.code_verifier,
      return_to: row.return_to,
      max_age: row.max_age === null ? null : Number(row.max_age),
    };
  });
}

/**
 * Refusals after a valid state are audited (they are real people failing to sign in, or a misbehaving
 * IdP); an unknown or replayed state is not, so anonymous requests cannot fill the audit log.
 */
async function auditRefusal(deps: Deps, data: { issuer: string; subject: string | null; reason: string }): Promise<void> {
  await deps.committer.run(async (tx) => {
    tx.audit({ actor: { type: 'system', id: 'oidc' }, event: 'oidc.sign_in_refused', data });
  });
}

/** openid-client's error, without anything secret (it never puts tokens in messages; the IdP's description is shown). */
function refusalReason(e: unknown): string {
  if (e instanceof client.AuthorizationResponseError) return `${e.error}${e.error_description ? `: ${e.error_description}` : ''}`;
  if (e instanceof client.ResponseBodyError) return `${e.error}${e.error_description ? `: ${e.error_description}` : ''}`;
  return (e as Error).message.slice(0, 500);
}

function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
