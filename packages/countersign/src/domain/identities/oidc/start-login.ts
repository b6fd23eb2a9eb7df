import { createHash } from 'node:crypto';
import * as client from 'openid-client';
import type { Deps } from '../../../deps.js';
import { CsError } from '../../../lib/errors.js';
import type { OidcRelyingParty } from './relying-party.js';

/** Sign-ins started and not finished that may be open at once; past it, new ones wait (anonymous callers create these rows). */
const MAX_OPEN_ATTEMPTS = 10_000;

export interface StartedLogin {
  /** Where to send the browser. */
  authorizationUrl: string;
  /** Also set in a cookie that binds the sign-in to the browser that started it. */
  state: string;
  expiresAt: number;
}

export function hashState(state: string): string {
  return createHash('sha256').update(state).digest('hex');
}

/**
 * Begins a sign-in at the IdP: Authorization Code with PKCE (S256), a random state and nonce. The
 * verifier and nonce stay on the server (never in the browser), the row is keyed by the state's hash and
 * is usable once, until `login_timeout`. `maxAgeSeconds` asks the IdP for a recent authentication (step-up).
 */
export async function startOidcLogin(
  deps: Deps,
  rp: OidcRelyingParty,
  input: { returnTo: string; maxAgeSeconds: number | undefined },
): Promise<StartedLogin> {
  const config = await rp.configuration();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const verifier = client.randomPKCECodeVerifier();
  const params: Record<string, string> = {
    redirect_uri: rp.config.redirectUri,
    scope: rp.config.scopes.join(' '),
    state,
    nonce,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  };
  if (input.maxAgeSeconds !== undefined) params.max_age = String(input.maxAgeSeconds);
  const authorizationUrl = client.buildAuthorizationUrl(config, params).href;
  const expiresAt = await deps.committer.run(async (tx) => {
    // Finished or abandoned attempts are worth nothing once expired; they go here rather than in a sweeper.
    await tx.db.deleteFrom('oidc_login_attempts').where('expires_at', '<=', tx.now).execute();
    const open = await tx.db
      .selectFrom('oidc_login_attempts')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirst();
    if (Number(open?.n ?? 0) >= MAX_OPEN_ATTEMPTS) {
      throw new CsError('rate_limited', 'too many sign-ins are in progress; try again in a few minutes');
    }
    const expires = tx.now + rp.config.loginTimeoutMs;
    await tx.db
      .insertInto('oidc_login_attempts')
      .values({
        state_hash: hashState(state),
        nonce,
        code_verifier: verifier,
        return_to: input.returnTo,
        max_age: input.maxAgeSeconds ?? null,
        created_at: tx.now,
        expires_at: expires,
        consumed_at: null,
      })
      .execute();
    return expires;
  });
  return { authorizationUrl, state, expiresAt };
}
