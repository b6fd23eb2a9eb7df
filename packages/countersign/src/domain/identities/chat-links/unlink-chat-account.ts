import type { Actor } from '../../../db/committer.js';
import type { Deps } from '../../../deps.js';
import { CsError } from '../../../lib/errors.js';
import { parseInput } from '../../validate.js';
import { ChatAccountKey, chatIssuer } from './chat-account.js';
import type { ChatLinkView } from './schemas.js';
import { iso } from './schemas.js';

/**
 * Ends a person's link to a chat account: from the next click on, that chat user is unlinked and refused.
 * `of`: whose link it must be (the person themselves, or the person an admin names); another person's link
 * is not found rather than removed. Of two unlinks at once, one deletes and the other finds nothing.
 */
export async function unlinkChatAccount(
  deps: Deps,
  actor: Actor,
  of: { userId: string; email: string },
  body: unknown,
): Promise<ChatLinkView> {
  const key = parseInput(ChatAccountKey, body);
  const issuer = chatIssuer(key);
  return deps.committer.run(async (tx) => {
    const row = await tx.db
      .selectFrom('linked_identities')
      .select('created_at')
      .where('issuer', '=', issuer)
      .where('subject', '=', key.user)
      .where('user_id', '=', of.userId)
      .executeTakeFirst();
    const gone = await tx.db
      .deleteFrom('linked_identities')
      .where('issuer', '=', issuer)
      .where('subject', '=', key.user)
      .where('user_id', '=', of.userId)
      .executeTakeFirst();
    if (!row || Number(gone.numDeletedRows) !== 1) {
      throw new CsError('not_found', `no ${key.platform} account ${key.user} in ${key.workspace} is linked to ${of.email}`);
    }
    tx.audit({
      actor,
      event: 'chat_account.unlinked',
      data: { user_id: of.userId, email: of.email, platform: key.platform, workspace: key.workspace, user: key.user },
    });
    return { platform: key.platform, workspace: key.workspace, user: key.user, display: null, linked_at: iso(row.created_at) };
  });
}
