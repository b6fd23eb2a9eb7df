import { z } from 'zod';
import type { Deps } from '../../../deps.js';
import { CsError } from '../../../lib/errors.js';
import { parseInput } from '../../validate.js';
import { createSession, type NewSession } from '../sessions/create-session.js';
import { clearFailures, lockedFor, recordFailure, throttleKeys } from './throttle.js';

export const SignInBody = z.strictObject({
  // Not z.email(): a malformed address must fail like a wrong one (401), not reveal the check. Control
  // characters are refused, as nothing stored or audited may hold them (PostgreSQL text cannot hold NUL).
  email: z
    .string()
    .min(1)
    .max(320)
    .regex(/^[^\p{Cc}]+$/u, 'no control characters'),
  password: z.string().min(1).max(1024),
});

export interface SignInContext {
  ip: string;
  userAgent: string | null;
}

const WRONG = 'wrong email or password';

/**
 * Email + password sign-in. Every failure reads the same and takes as long (an unknown email is
 * checked against a dummy hash), is counted per account and per address, and is audited; a locked
 * key is refused with 429 and Retry-After before any hashing.
 */
export async function signInWithPassword(
  deps: Deps,
  body: unknown,
  ctx: SignInContext,
): Promise<NewSession & { userId: string; email: string }> {
  const input = parseInput(SignInBody, body);
  const email = input.email.trim().toLowerCase();
  const keys = throttleKeys(email, ctx.ip);
  const locked = await lockedFor(deps.db.read, [keys.account, keys.address], deps.clock.now());
  if (locked > 0) {
    const seconds = Math.ceil(locked / 1000);
    throw new CsError('rate_limited', `too many failed sign-ins; retry in ${seconds} s`, { details: { retry_after_seconds: seconds } });
  }
  const row = await deps.db.read
    .selectFrom('users as u')
    .leftJoin('local_passwords as p', 'p.user_id', 'u.id')
    .select(['u.id', 'u.email', 'u.disabled_at', 'p.hash'])
    .where('u.email', '=', email)
    .executeTakeFirst();
  const stored = row?.hash ?? null;
  const matches = await deps.passwords.verify(input.password, stored);
  const ok = row !== undefined && stored !== null && matches && row.disabled_at === null;
  if (ok) {
    const session = await deps.committer.run(async (tx) => {
      await clearFailures(tx, keys.account);
      return createSession(tx, deps.config, { userId: row.id, method: 'password', strongAt: null, userAgent: ctx.userAgent, ip: ctx.ip });
    });
    return { ...session, userId: row.id, email: row.email };
  }
  await deps.committer.run(async (tx) => {
    const local = deps.config.auth.local;
    const accountLock = await recordFailure(tx, deps.config, keys.account, local.maxFailuresPerAccount);
    const addressLock = await recordFailure(tx, deps.config, keys.address, local.maxFailuresPerAddress);
    // The person is named only when the account exists: audit entries are kept for ever, guesses are not worth it.
    const actor = { type: 'system' as const, id: null };
    tx.audit({ actor, event: 'auth.sign_in_failed', data: { email, ip: ctx.ip, user_id: row?.id ?? null, method: 'password' } });
    if (accountLock > 0 || addressLock > 0) {
      tx.audit({
        actor,
        event: 'auth.locked_out',
        data: { email, ip: ctx.ip, account_lock_ms: accountLock, address_lock_ms: addressLock },
      });
    }
  });
  throw new CsError('unauthenticated', WRONG);
}
