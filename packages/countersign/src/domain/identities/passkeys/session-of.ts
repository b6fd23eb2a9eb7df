import type { Deps } from '../../../deps.js';
import { CsError } from '../../../lib/errors.js';
import type { UserPrincipal } from '../principal.js';

/** The browser session a ceremony belongs to; an API key has none (passkeys are managed from a browser). */
export function sessionIdOf(principal: UserPrincipal, what: string): string {
  const c = principal.credential;
  if (c.kind !== 'session') throw new CsError('invalid_request', `${what} needs a browser session (sign in); an API key cannot do it`);
  return c.sessionId;
}

/**
 * Refuses unless the session signed in or re-authenticated within `auth.passkeys.recent_sign_in`: a session
 * left open (or stolen) cannot add its own passkey or take the second factor away.
 */
export async function requireRecentSignIn(deps: Deps, principal: UserPrincipal, what: string): Promise<string> {
  const sessionId = sessionIdOf(principal, what);
  const row = await deps.db.read.selectFrom('sessions').select(['created_at', 'strong_at']).where('id', '=', sessionId).executeTakeFirst();
  const last = Math.max(row?.created_at ?? 0, row?.strong_at ?? 0);
  const window = deps.config.auth.passkeys.recentSignInMs;
  if (deps.clock.now() - last > window) {
    throw new CsError(
      'reauthentication_required',
      `${what} needs a sign-in within the last ${Math.round(window / 60_000)} min: sign in again (or re-authenticate with a passkey) first`,
      { details: { max_age_seconds: Math.round(window / 1000) } },
    );
  }
  return sessionId;
}
