import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { DB } from '../../../db/types.js';
import { freeText } from '../../free-text.js';

export type ChatPlatform = 'slack' | 'teams';
export const CHAT_PLATFORMS: readonly ChatPlatform[] = ['slack', 'teams'];

/** A chat account: Slack (workspace = team id T…, user = U…/W…), Teams (workspace = tenant id, user = AAD object id). */
export interface ChatAccount {
  platform: ChatPlatform;
  workspace: string;
  user: string;
  /** shown to the person confirming */
  display: string;
}

/** Slack ids are upper-case letters and digits: a team T… (or an Enterprise Grid org E…), a user U… or W…. */
const SLACK_TEAM = /^[TE][A-Z0-9]{2,31}$/;
const SLACK_USER = /^[UW][A-Z0-9]{2,31}$/;
/** Teams: the Entra ID tenant id and the user's object id, both GUIDs (stored lower-case). */
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const SlackKey = z.strictObject({
  platform: z.literal('slack'),
  workspace: z.string().regex(SLACK_TEAM, 'a Slack team id (T…) or Enterprise Grid id (E…)'),
  user: z.string().regex(SLACK_USER, 'a Slack user id (U… or W…)'),
});
const TeamsKey = z.strictObject({
  platform: z.literal('teams'),
  workspace: z.string().toLowerCase().regex(GUID, 'an Entra ID tenant id (a GUID)'),
  user: z.string().toLowerCase().regex(GUID, 'an Entra ID object id (a GUID)'),
});

/** Which chat account: platform, workspace and user id, checked per platform (the caller's input is untrusted). */
export const ChatAccountKey = z.discriminatedUnion('platform', [SlackKey, TeamsKey]).meta({ id: 'ChatAccountKey' });
export type ChatAccountKey = z.output<typeof ChatAccountKey>;

/** The chat name shown to the person confirming: chat-supplied text, rendered as text (safe-text rules) by every page. */
export const ChatDisplay = freeText().min(1).max(200);

export const ChatAccountInput = z.discriminatedUnion('platform', [
  SlackKey.extend({ display: ChatDisplay }),
  TeamsKey.extend({ display: ChatDisplay }),
]);

/** The linked_identities issuer for a chat account: `slack:T123` / `teams:<tenant>`. */
export function chatIssuer(a: Pick<ChatAccount, 'platform' | 'workspace'>): string {
  return `${a.platform}:${a.workspace}`;
}

/** The platform and workspace of a chat issuer, or null for any other issuer (an OIDC provider's URL). */
export function parseChatIssuer(issuer: string): { platform: ChatPlatform; workspace: string } | null {
  const colon = issuer.indexOf(':');
  const platform = issuer.slice(0, colon);
  if (colon < 0 || !CHAT_PLATFORMS.includes(platform as ChatPlatform)) return null;
  const workspace = issuer.slice(colon + 1);
  // An OIDC issuer is a URL (`https://…`): its scheme is never a chat platform, so this is unambiguous.
  return workspace.startsWith('//') ? null : { platform: platform as ChatPlatform, workspace };
}

/** Teams GUIDs compare lower-case (Microsoft sends either case); Slack ids are case-sensitive upper-case. */
function norm(platform: ChatPlatform, id: string): string {
  return platform === 'teams' ? id.toLowerCase() : id;
}

/** The enabled person linked to this chat account, or null (unlinked, or the person is disabled). */
export async function personOfChatAccount(
  db: Kysely<DB>,
  a: Pick<ChatAccount, 'platform' | 'workspace' | 'user'>,
): Promise<{ id: string; email: string } | null> {
  const row = await db
    .selectFrom('linked_identities as l')
    .innerJoin('users as u', 'u.id', 'l.user_id')
    .select(['u.id', 'u.email'])
    .where('l.issuer', '=', chatIssuer({ platform: a.platform, workspace: norm(a.platform, a.workspace) }))
    .where('l.subject', '=', norm(a.platform, a.user))
    .where('u.disabled_at', 'is', null)
    .executeTakeFirst();
  return row ?? null;
}

/** The chat accounts (of one platform and workspace) linked to these people: for DMs. */
export async function chatAccountsOf(
  db: Kysely<DB>,
  platform: ChatPlatform,
  workspace: string,
  userIds: readonly string[],
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (userIds.length === 0) return out;
  const rows = await db
    .selectFrom('linked_identities')
    .select(['user_id', 'subject'])
    .where('issuer', '=', chatIssuer({ platform, workspace: norm(platform, workspace) }))
    .where('user_id', 'in', [...userIds])
    .orderBy('created_at')
    .execute();
  // One chat user per person per workspace is the norm; with several, the earliest link is the one to DM.
  for (const r of rows) if (!out.has(r.user_id)) out.set(r.user_id, r.subject);
  return out;
}
