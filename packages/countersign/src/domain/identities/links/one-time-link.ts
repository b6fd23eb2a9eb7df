import type { Kysely } from 'kysely';
import type { Tx } from '../../../db/committer.js';
import type { DB } from '../../../db/types.js';
import { CsError } from '../../../lib/errors.js';
import { newId } from '../../../lib/ids.js';
import { hashToken, isTokenShaped, newToken } from '../sessions/tokens.js';

/** 'setup': the first admin, before anyone can sign in. 'password_reset': an admin let one person choose a new password. */
export type LinkKind = 'setup' | 'password_reset';

const PATHS: Record<LinkKind, string> = { setup: '/setup', password_reset: '/reset-password' };

/**
 * The address a person opens. The token travels in the fragment, which browsers never send to a server
 * or in a Referer, so it stays out of access logs and proxies; the page posts it to the API.
 */
export function linkUrl(origin: URL, kind: LinkKind, token: string): string {
  return `${origin.origin}${PATHS[kind]}#token=${token}`;
}

/**
 * Stores a new single-use link (hashed) and ends the unused ones of the same kind for the same person,
 * so only the latest link printed or sent works.
 */
export async function createLink(
  tx: Tx,
  kind: LinkKind,
  userId: string | null,
  ttlMs: number,
): Promise<{ id: string; token: string; expiresAt: number }> {
  let stale = tx.db.updateTable('one_time_links').set({ used_at: tx.now }).where('kind', '=', kind).where('used_at', 'is', null);
  stale = userId === null ? stale.where('user_id', 'is', null) : stale.where('user_id', '=', userId);
  await stale.execute();
  const { token, hash } = newToken();
  const id = newId();
  const expiresAt = tx.now + ttlMs;
  await tx.db
    .insertInto('one_time_links')
    .values({ id, token_hash: hash, kind, user_id: userId, created_at: tx.now, expires_at: expiresAt, used_at: null })
    .execute();
  return { id, token, expiresAt };
}

/**
 * Whether a link could be used now, read before the (slow, memory-hard) password hash, so a request with
 * a made-up token costs a lookup, not a hash. `useLink` decides for real inside the transaction.
 */
export async function requireLiveLink(db: Kysely<DB>, kind: LinkKind, token: unknown, now: number): Promise<void> {
  const row =
    typeof token === 'string' && isTokenShaped(token)
      ? await db
          .selectFrom('one_time_links')
          .select('id')
          .where('token_hash', '=', hashToken(token))
          .where('kind', '=', kind)
          .where('used_at', 'is', null)
          .where('expires_at', '>', now)
          .executeTakeFirst()
      : undefined;
  if (!row) throw badLink();
}

function badLink(): CsError {
  return new CsError('unauthenticated', 'this link is unknown, used or expired; ask an admin for a new one');
}

/**
 * Uses a link once: compare-and-set on `used_at`, so two tabs redeeming it together get one success.
 * Unknown, used and expired links all read the same.
 */
export async function useLink(tx: Tx, kind: LinkKind, token: unknown): Promise<{ id: string; userId: string | null }> {
  const bad = badLink();
  if (typeof token !== 'string' || !isTokenShaped(token)) throw bad;
  const row = await tx.db
    .selectFrom('one_time_links')
    .select(['id', 'user_id', 'expires_at', 'used_at'])
    .where('token_hash', '=', hashToken(token))
    .where('kind', '=', kind)
    .executeTakeFirst();
  if (!row || row.used_at !== null || row.expires_at <= tx.now) throw bad;
  const res = await tx.db
    .updateTable('one_time_links')
    .set({ used_at: tx.now })
    .where('id', '=', row.id)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) !== 1) throw bad;
  return { id: row.id, userId: row.user_id };
}
