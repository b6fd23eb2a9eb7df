import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.js';
import { CsError } from '../../lib/errors.js';
import { parseKey, secretMatches } from './api-keys.js';
import { authenticateKey, BAD_KEY } from './authenticate.js';
import { readIdentityEpoch } from './epoch.js';
import type { Principal } from './principal.js';
import { KEY_TOUCH_EVERY_MS } from './touch-key.js';

interface Entry {
  secretHash: string;
  principal: Principal;
  lastUsedAt: number;
  /** The identity epoch read before the key's row was: the entry holds only while the epoch has not moved. */
  epoch: number;
}

export interface AuthenticatedKey {
  principal: Principal;
  prefix: string;
  lastUsedAt: number | null;
  /** The identity epoch read before the principal was (or, for a remembered one, that it still stands at). */
  epoch: number;
}

/**
 * The principals of recently used API keys, so a request pays one read of the identity epoch (one row, one
 * prepared statement) instead of the key's three-table join. Revocation still takes effect on the next
 * request: every change to who may do what bumps the epoch in its own transaction (domain/identities/epoch.ts,
 * on any node and from the admin CLI alike), and an entry is used only while the epoch is the one read before
 * its row was. The secret is checked against the stored hash on every request, hit or miss; a failed check
 * is never remembered. An entry also lapses when its key is due a new `last_used_at` (touchKey), so the
 * caller sees the stored value then and records the use exactly as without the cache (which also bounds
 * how long a hand edit of the tables that leaves the epoch alone goes unseen: one touch interval).
 */
export class KeyCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly maxEntries = 1024) {}

  async authenticate(db: Kysely<DB>, key: string | undefined, now: number): Promise<AuthenticatedKey> {
    const parsed = key ? parseKey(key) : null;
    if (!parsed) throw new CsError('unauthenticated', BAD_KEY);
    const epoch = await readIdentityEpoch(db);
    const hit = this.entries.get(parsed.prefix);
    if (hit && hit.epoch === epoch && now - hit.lastUsedAt < KEY_TOUCH_EVERY_MS) {
      if (!secretMatches(parsed.secret, hit.secretHash)) throw new CsError('unauthenticated', BAD_KEY);
      return { principal: hit.principal, prefix: parsed.prefix, lastUsedAt: hit.lastUsedAt, epoch };
    }
    const found = await authenticateKey(db, key);
    if (found.lastUsedAt !== null && now - found.lastUsedAt < KEY_TOUCH_EVERY_MS) {
      this.remember(found.prefix, { secretHash: found.secretHash, principal: found.principal, lastUsedAt: found.lastUsedAt, epoch });
    } else {
      this.entries.delete(found.prefix);
    }
    return { principal: found.principal, prefix: found.prefix, lastUsedAt: found.lastUsedAt, epoch };
  }

  /**
   * The remembered principal of `key`, with the epoch it was authenticated at, WITHOUT reading the epoch:
   * only for a caller that proves the epoch still stands before it answers (http/key-checked-at-commit.ts:
   * the commit itself proves it, or the ordinary read does). The secret is checked against the remembered
   * hash (constant time) as on every request. Null when there is nothing to rely on (not remembered, due a
   * touch, malformed, wrong secret): the caller then takes the ordinary path, which answers those.
   */
  remembered(key: string | undefined, now: number): AuthenticatedKey | null {
    const parsed = key ? parseKey(key) : null;
    if (!parsed) return null;
    const hit = this.entries.get(parsed.prefix);
    if (!hit || now - hit.lastUsedAt >= KEY_TOUCH_EVERY_MS) return null;
    if (!secretMatches(parsed.secret, hit.secretHash)) return null;
    return { principal: hit.principal, prefix: parsed.prefix, lastUsedAt: hit.lastUsedAt, epoch: hit.epoch };
  }

  private remember(prefix: string, entry: Entry): void {
    this.entries.delete(prefix);
    if (this.entries.size >= this.maxEntries) {
      // Map iteration is insertion order: the first key is the one read longest ago.
      const stalest = this.entries.keys().next().value;
      if (stalest !== undefined) this.entries.delete(stalest);
    }
    this.entries.set(prefix, entry);
  }
}
