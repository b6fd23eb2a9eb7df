import type { Deps } from '../../../deps.js';
import { CsError } from '../../../lib/errors.js';
import { parseInput } from '../../validate.js';
import { newToken } from '../sessions/tokens.js';
import { type ChatAccount, ChatAccountInput } from './chat-account.js';

/** How long a link to confirm a chat account stays usable. */
export const CHAT_LINK_TTL_MS = 10 * 60_000;

const SYSTEM = { type: 'system', id: null } as const;

/**
 * A single-use link (10 min) the chat user opens in the console to link their chat account to whoever is signed in.
 * The channel sends it to that chat user only (an ephemeral message), so whoever opens it is the chat user;
 * the person confirming signs in first. The token travels in the URL fragment (never sent to a server or in
 * a Referer) and only its sha256 is stored. A new request ends the unused ones for the same chat account.
 */
export async function requestChatLink(deps: Deps, account: ChatAccount): Promise<{ url: string; expiresAt: number }> {
  const data = parseInput(ChatAccountInput, account, 'chat account');
  const publicUrl = deps.config.server.publicUrl;
  if (!publicUrl) {
    throw new CsError('invalid_request', 'linking a chat account needs server.public_url: the link opens the console at that address');
  }
  const { token, hash } = newToken();
  const expiresAt = await deps.committer.run(async (tx) => {
    await tx.db
      .updateTable('chat_link_requests')
      .set({ used_at: tx.now })
      .where('platform', '=', data.platform)
      .where('workspace', '=', data.workspace)
      .where('chat_user', '=', data.user)
      .where('used_at', 'is', null)
      .execute();
    const expires = tx.now + CHAT_LINK_TTL_MS;
    await tx.db
      .insertInto('chat_link_requests')
      .values({
        token_hash: hash,
        platform: data.platform,
        workspace: data.workspace,
        chat_user: data.user,
        display: data.display,
        created_at: tx.now,
        expires_at: expires,
        used_at: null,
        confirmed_by: null,
      })
      .execute();
    tx.audit({
      actor: SYSTEM,
      event: 'chat_link.requested',
      data: { platform: data.platform, workspace: data.workspace, user: data.user, display: data.display },
    });
    return expires;
  });
  return { url: `${new URL(publicUrl).origin}/link-chat#token=${token}`, expiresAt };
}
