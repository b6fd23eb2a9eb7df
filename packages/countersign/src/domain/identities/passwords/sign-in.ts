import { z } from 'zod';
import type { Deps } from '../../../deps.js';
import { CsError } from '../../../lib/errors.js';
import { parseInput } from '../../validate.js';
import { passkeysOf } from '../passkeys/passkey-rows.js';
import { type PendingSignIn, startPasskeySignIn } from '../passkeys/start-passkey-sign-in.js';
import { createSession, type NewSession } from '../sessions/create-session.js';
import { clearFailures, lockedFor, recordSignInFailure, throttleKeys } from './throttle.js';

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

export type PasswordSignInResult =
  | ({ kind: 'signed_in'; userId: string; email: string } & NewSession)
  | ({ kind: 'passkey_required' } & PendingSignIn);

/**
 * Email + password sign-in. Every failure reads the same and takes as long (an unknown email is
 * checked against a dummy hash), is counted per account and per address, and is audited; a locked
 * key is refused with 429 and Retry-After before any hashing. A person with a passkey gets no session
 * from the password alone: the answer is the passkey step (kind `passkey_required`).
 */
export async function signInWithPassword(deps: Deps, body: unknown, ctx: SignInContext): Promise<PasswordSignInResult> {
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
    // With a passkey registered, the password is only the first step (see passkeys/start-passkey-sign-in.ts).
    return deps.committer.run(async (tx): Promise<PasswordSignInResult> => {
      const passkeys = await passkeysOf(tx.db, row.id);
      if (passkeys.length > 0)
        return { kind: 'passkey_required', ...(await startPasskeySignIn(tx, deps.config, row.id, passkeys, ctx.ip)) };
      await clearFailures(tx, keys.account);
      const session = await createSession(tx, deps.config, {
        userId: row.id,
        method: 'password',
        strongAt: null,
        userAgent: ctx.userAgent,
        ip: ctx.ip,
      });
      return { kind: 'signed_in', ...session, userId: row.id, email: row.email };
    });
  }
  await deps.committer.run((tx) =>
    recordSignInFailure(tx, deps.config, keys, { email, ip: ctx.ip, user_id: row?.id ?? null, method: 'password' }),
  );
  throw new CsError('unauthenticated', WRONG);
}
