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
 * Whether a new link ends the unused ones of its kind for the same person. A reset link: yes, only the
 * latest one sent works. A setup link: no; each gateway start prints its own (several nodes start together,
 * each on its operator's terminal), any one works, and completing setup ends the others.
 */
const ONLY_THE_LATEST: Record<LinkKind, boolean> = { setup: false, password_reset: true };

/** Stores a new single-use link (hashed), ending the earlier unused ones where its kind keeps only the latest. */
export async function createLink(
  tx: Tx,
  kind: LinkKind,
  userId: string | null,
  ttlMs: number,
): Promise<{ id: string; token: string; expiresAt: number }> {
  if (ONLY_THE_LATEST[kind]) await endUnusedLinks(tx, kind, userId);
  const { token, hash } = newToken();
  const id = newId();
  const expiresAt = tx.now + ttlMs;
  await tx.db
    .insertInto('one_time_links')
    .values({ id, token_hash: hash, kind, user_id: userId, created_at: tx.now, expires_at: expiresAt, used_at: null })
    .execute();
  return { id, token, expiresAt };
}

/** Ends every unused link of this kind for this person (null: the setup links, which belong to nobody). */
export async function endUnusedLinks(tx: Tx, kind: LinkKind, userId: string | null): Promise<void> {
  let q = tx.db.updateTable('one_time_links').set({ used_at: tx.now }).where('kind', '=', kind).where('used_at', 'is', null);
  q = userId === null ? q.where('user_id', 'is', null) : q.where('user_id', '=', userId);
  await q.execute();
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
