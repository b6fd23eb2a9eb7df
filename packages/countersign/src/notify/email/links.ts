import type { Tx } from '../../db/committer.js';
import { newToken } from '../../domain/identities/sessions/tokens.js';
import { newId } from '../../lib/ids.js';

export const DECISION_PAGE_PATH = '/email/decision';

export interface IssuedLinks {
  approve: string;
  deny: string;
  expiresAt: number;
}

/**
 * An approve and a deny link for one recipient of one email, issued in the delivery's transaction: random
 * tokens, stored as their sha256 only, bound to (action, person, decision), good once and until the
 * earlier of `ttlMs` from now and the action's deadline. Null when that leaves no time at all.
 */
export async function issueDecisionLinks(
  tx: Tx,
  input: { publicUrl: string; deliveryId: string; actionId: string; userId: string; ttlMs: number; deadline: number | null },
): Promise<IssuedLinks | null> {
  const expiresAt = Math.min(tx.now + input.ttlMs, input.deadline ?? Number.POSITIVE_INFINITY);
  if (expiresAt <= tx.now) return null;
  const urls: Record<'approve' | 'deny', string> = { approve: '', deny: '' };
  for (const decision of ['approve', 'deny'] as const) {
    const { token, hash } = newToken();
    await tx.db
      .insertInto('email_decision_links')
      .values({
        id: newId(),
        token_hash: hash,
        action_id: input.actionId,
        user_id: input.userId,
        decision,
        delivery_id: input.deliveryId,
        created_at: tx.now,
        expires_at: expiresAt,
        used_at: null,
      })
      .execute();
    urls[decision] = `${input.publicUrl.replace(/\/+$/, '')}${DECISION_PAGE_PATH}?token=${token}`;
  }
  return { ...urls, expiresAt };
}
