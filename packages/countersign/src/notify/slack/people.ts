import type { Deps } from '../../deps.js';
import { type ChatAccount, chatAccountsOf, personOfChatAccount } from '../../domain/identities/chat-links/chat-account.js';
import { linkChatAccountByEmail } from '../../domain/identities/chat-links/link-by-email.js';

/** A person's Slack user in the configured workspace, for those who linked one: userId → U…. */
export function slackUsersOf(deps: Deps, userIds: readonly string[]): Promise<Map<string, string>> {
  return chatAccountsOf(deps.db.read, 'slack', deps.config.notifications.slack.workspace, userIds);
}

/**
 * The person a Slack user is linked to (made once from the console), or null. With `match_email` on (an
 * explicit opt-in), an unlinked user is linked by the email Slack holds for them, when exactly one
 * person has it (users.info; needs users:read.email).
 */
export async function personOfSlackUser(
  deps: Deps,
  account: ChatAccount,
  emailOf: () => Promise<string | null>,
): Promise<{ id: string; email: string } | null> {
  const linked = await personOfChatAccount(deps.db.read, account);
  if (linked || !deps.config.notifications.slack.match_email) return linked;
  const email = await emailOf();
  return email === null ? null : linkChatAccountByEmail(deps, account, email);
}
