import type { Kysely } from 'kysely';
import type { ChatLinkRequestsTable, DB } from '../../../db/types.js';
import { CsError } from '../../../lib/errors.js';
import { hashToken, isTokenShaped } from '../sessions/tokens.js';

export function badChatLink(): CsError {
  return new CsError('not_found', 'this chat link is unknown, used or expired; ask for a new one in the chat app');
}

/**
 * The request behind a token, if it could be used now. Unknown, used and expired tokens read the same,
 * and a token of the wrong shape is refused without a lookup.
 */
export async function liveChatLinkRequest(db: Kysely<DB>, token: string, now: number): Promise<ChatLinkRequestsTable> {
  if (!isTokenShaped(token)) throw badChatLink();
  const row = await db.selectFrom('chat_link_requests').selectAll().where('token_hash', '=', hashToken(token)).executeTakeFirst();
  if (!row || row.used_at !== null || Number(row.expires_at) <= now) throw badChatLink();
  return { ...row, created_at: Number(row.created_at), expires_at: Number(row.expires_at) };
}
