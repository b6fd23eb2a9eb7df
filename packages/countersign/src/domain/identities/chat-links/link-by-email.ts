import type { Deps } from '../../../deps.js';
import { parseInput } from '../../validate.js';
import { type ChatAccount, ChatAccountInput, chatIssuer } from './chat-account.js';

const SYSTEM = { type: 'system', id: null } as const;

/**
 * The explicit opt-in of a channel (off by default): links a chat account by the email the chat platform
 * reports for it. Links only when exactly one enabled person has that email and the chat account is not
 * linked yet; otherwise links nothing and returns null. Never re-points an existing link. Audited as the
 * system, `via: 'email_match'`. Only as trustworthy as the chat platform's email (Slack verifies it).
 */
export async function linkChatAccountByEmail(
  deps: Deps,
  account: ChatAccount,
  email: string,
): Promise<{ id: string; email: string } | null> {
  const data = parseInput(ChatAccountInput, account, 'chat account');
  const wanted = email.trim().toLowerCase();
  if (wanted === '' || wanted.length > 320) return null;
  const issuer = chatIssuer(data);
  try {
    return await deps.committer.run(async (tx) => {
      const linked = await tx.db
        .selectFrom('linked_identities')
        .select('user_id')
        .where('issuer', '=', issuer)
        .where('subject', '=', data.user)
        .executeTakeFirst();
      if (linked) return null;
      const people = await tx.db
        .selectFrom('users')
        .select(['id', 'email'])
        .where('email', '=', wanted)
        .where('disabled_at', 'is', null)
        .limit(2)
        .execute();
      const [person] = people;
      if (!person || people.length !== 1) return null;
      await tx.db
        .insertInto('linked_identities')
        .values({ issuer, subject: data.user, user_id: person.id, email: wanted, created_at: tx.now, last_sign_in_at: null })
        .execute();
      tx.audit({
        actor: SYSTEM,
        event: 'chat_account.linked',
        data: {
          user_id: person.id,
          email: person.email,
          platform: data.platform,
          workspace: data.workspace,
          user: data.user,
          display: data.display,
          via: 'email_match',
        },
      });
      return { id: person.id, email: person.email };
    });
  } catch (e) {
    // Linked at the same moment by another path: this match links nothing.
    if (deps.db.caps.isUniqueViolation((e as { cause?: unknown })?.cause)) return null;
    throw e;
  }
}
