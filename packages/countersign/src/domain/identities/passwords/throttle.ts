import type { Kysely } from 'kysely';
import type { Config } from '../../../config/schema.js';
import type { Tx } from '../../../db/committer.js';
import type { DB } from '../../../db/types.js';

/**
 * Failed sign-ins are counted per account (the email typed, whether or not it exists, so a lockout
 * tells nothing about existence) and per client address. Within `failure_window`, reaching the limit
 * locks that key for `lockout`, doubling with each further failure up to a day: slow enough to stop
 * guessing, short enough that a locked-out person is not locked out for long.
 */
export type ThrottleKey = `account:${string}` | `address:${string}`;
const MAX_LOCK_MS = 86_400_000;

export function throttleKeys(email: string, ip: string): { account: ThrottleKey; address: ThrottleKey } {
  return { account: `account:${email.trim().toLowerCase()}`, address: `address:${ip}` };
}

/** The longest current lockout among the keys, in ms from `now`; 0 when none. */
export async function lockedFor(db: Kysely<DB>, keys: ThrottleKey[], now: number): Promise<number> {
  const rows = await db.selectFrom('sign_in_throttle').select('locked_until').where('key', 'in', keys).execute();
  return Math.max(0, ...rows.map((r) => (r.locked_until ?? 0) - now));
}

/** Counts a failure for one key; returns the lockout it starts (ms), or 0. */
export async function recordFailure(tx: Tx, config: Config, key: ThrottleKey, limit: number): Promise<number> {
  const { failureWindowMs, lockoutMs } = config.auth.local;
  const row = await tx.db.selectFrom('sign_in_throttle').selectAll().where('key', '=', key).executeTakeFirst();
  const fresh = !row || row.first_failure_at + failureWindowMs <= tx.now;
  const failures = fresh ? 1 : row.failures + 1;
  const firstFailureAt = fresh ? tx.now : row.first_failure_at;
  const lockMs = failures >= limit ? Math.min(MAX_LOCK_MS, lockoutMs * 2 ** Math.min(30, failures - limit)) : 0;
  const values = { failures, first_failure_at: firstFailureAt, locked_until: lockMs > 0 ? tx.now + lockMs : null };
  await tx.db
    .insertInto('sign_in_throttle')
    .values({ key, ...values })
    .onConflict((oc) => oc.column('key').doUpdateSet(values))
    .execute();
  return lockMs;
}

/** A successful sign-in forgives the account's failures (not the address's: one good account must not reset a spray). */
export async function clearFailures(tx: Tx, key: ThrottleKey): Promise<void> {
  await tx.db.deleteFrom('sign_in_throttle').where('key', '=', key).execute();
}

/**
 * A failed sign-in step (a wrong password, a refused passkey): counted for the account and the address,
 * and audited, with the lockout it starts. The person is named only when the account exists.
 */
export async function recordSignInFailure(
  tx: Tx,
  config: Config,
  keys: { account: ThrottleKey; address: ThrottleKey },
  data: { email: string; ip: string; user_id: string | null; method: 'password' | 'passkey'; reason?: string },
): Promise<void> {
  const local = config.auth.local;
  const accountLock = await recordFailure(tx, config, keys.account, local.maxFailuresPerAccount);
  const addressLock = await recordFailure(tx, config, keys.address, local.maxFailuresPerAddress);
  const actor = { type: 'system' as const, id: null };
  tx.audit({ actor, event: 'auth.sign_in_failed', data });
  if (accountLock > 0 || addressLock > 0) {
    tx.audit({
      actor,
      event: 'auth.locked_out',
      data: { email: data.email, ip: data.ip, account_lock_ms: accountLock, address_lock_ms: addressLock },
    });
  }
}
