import type { Deps } from '../../deps.js';
import { type ChatAccount, personOfChatAccount } from '../../domain/identities/chat-links/chat-account.js';
import { personPrincipal } from '../../domain/identities/person-principal.js';
import type { UserPrincipal } from '../../domain/identities/principal.js';

/** The Teams user behind an activity, as the chat-links module names accounts (workspace: the tenant). */
export function teamsAccount(tenant: string, aadObjectId: string, display: string | undefined): ChatAccount {
  // The name Teams sends is the user's own text: kept to what a chat link stores (1–200 characters, no NUL).
  const name = [...(display ?? '').replace(/\0/g, '')].slice(0, 200).join('').trim();
  return { platform: 'teams', workspace: tenant, user: aadObjectId, display: name === '' ? aadObjectId : name };
}

/**
 * The person a Teams account is linked to, as a principal whose credential is that chat identity (so the
 * vote's channel is `teams` and its audit entry says so); null when unlinked, and null for a disabled person.
 * The review verb then applies every rule it applies to any channel: role, eligibility, self-approval.
 */
export async function teamsPrincipal(deps: Deps, account: ChatAccount): Promise<UserPrincipal | 'unlinked' | 'disabled'> {
  const person = await personOfChatAccount(deps.db.read, { platform: 'teams', workspace: account.workspace, user: account.user });
  if (!person) return 'unlinked';
  return (await personPrincipal(deps.db.read, person.id, { kind: 'chat', platform: 'teams', externalUserId: account.user })) ?? 'disabled';
}
