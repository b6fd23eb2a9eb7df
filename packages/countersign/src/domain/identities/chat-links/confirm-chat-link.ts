import type { Deps } from '../../../deps.js';
import { CsError, isCsError } from '../../../lib/errors.js';
import { parseInput } from '../../validate.js';
import type { UserPrincipal } from '../principal.js';
import { hashToken } from '../sessions/tokens.js';
import { chatIssuer } from './chat-account.js';
import { badChatLink, liveChatLinkRequest } from './read-chat-link-request.js';
import { type ConfirmedChatLink, iso, TokenBody } from './schemas.js';

/**
 * Links the chat account of a request to the signed-in person. Only a browser session may: an API key (and
 * so an agent, or a script an agent drives) never can, since a link confirmed by a prompt-injected agent
 * would let that chat account approve as the person. The request is used once (compare-and-set on
 * `used_at`); a chat account already linked to someone else is a conflict, never silently re-pointed.
 */
export async function confirmChatLink(deps: Deps, by: UserPrincipal, body: unknown): Promise<ConfirmedChatLink> {
  if (by.credential.kind !== 'session') {
    throw new CsError(
      'forbidden',
      'a chat account is linked from a signed-in browser session only (open the link in the console), never with an API key',
    );
  }
  const { token } = parseInput(TokenBody, body);
  try {
    return await deps.committer.run(async (tx) => {
      const row = await liveChatLinkRequest(tx.db, token, tx.now);
      const issuer = chatIssuer(row);
      const account = { platform: row.platform, workspace: row.workspace, user: row.chat_user, display: row.display };
      const used = await tx.db
        .updateTable('chat_link_requests')
        .set({ used_at: tx.now, confirmed_by: by.id })
        .where('token_hash', '=', hashToken(token))
        .where('used_at', 'is', null)
        .executeTakeFirst();
      if (Number(used.numUpdatedRows) !== 1) throw badChatLink();
      const existing = await tx.db
        .selectFrom('linked_identities')
        .select(['user_id', 'created_at'])
        .where('issuer', '=', issuer)
        .where('subject', '=', row.chat_user)
        .executeTakeFirst();
      if (existing && existing.user_id !== by.id) throw alreadyLinked(account.platform);
      if (existing) return { ...account, linked_at: iso(existing.created_at), email: by.email, already_linked: true };
      await tx.db
        .insertInto('linked_identities')
        .values({ issuer, subject: row.chat_user, user_id: by.id, email: null, created_at: tx.now, last_sign_in_at: null })
        .execute();
      tx.audit({
        actor: { type: 'user', id: by.id },
        event: 'chat_account.linked',
        data: {
          user_id: by.id,
          email: by.email,
          platform: row.platform,
          workspace: row.workspace,
          user: row.chat_user,
          display: row.display,
          via: 'link',
        },
      });
      return { ...account, linked_at: iso(tx.now), email: by.email, already_linked: false };
    });
  } catch (e) {
    // Two requests for the same chat account confirmed at once by two people: the second insert loses.
    if (isCsError(e) && deps.db.caps.isUniqueViolation(e.cause)) throw alreadyLinked('chat');
    throw e;
  }
}

function alreadyLinked(platform: string): CsError {
  return new CsError('conflict', `this ${platform} account is already linked to someone else; they (or an admin) must unlink it first`);
}
