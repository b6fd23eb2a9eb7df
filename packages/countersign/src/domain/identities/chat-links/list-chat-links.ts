import type { Kysely } from 'kysely';
import type { DB } from '../../../db/types.js';
import { parseChatIssuer } from './chat-account.js';
import { type ChatLinkView, iso } from './schemas.js';

/** A person's linked chat accounts, oldest first, each with the chat name it was confirmed under. */
export async function listChatLinks(db: Kysely<DB>, userId: string): Promise<ChatLinkView[]> {
  const rows = await db
    .selectFrom('linked_identities')
    .select(['issuer', 'subject', 'created_at'])
    .where('user_id', '=', userId)
    .where((eb) => eb.or([eb('issuer', 'like', 'slack:%'), eb('issuer', 'like', 'teams:%')]))
    .orderBy('created_at')
    .orderBy('subject')
    .execute();
  const names = await db
    .selectFrom('chat_link_requests')
    .select(['platform', 'workspace', 'chat_user', 'display'])
    .where('confirmed_by', '=', userId)
    .orderBy('used_at')
    .execute();
  // Later confirmations overwrite earlier ones: the latest chat name wins.
  const display = new Map(names.map((n) => [`${n.platform}:${n.workspace} ${n.chat_user}`, n.display]));
  const out: ChatLinkView[] = [];
  for (const r of rows) {
    const at = parseChatIssuer(r.issuer);
    if (!at) continue;
    out.push({ ...at, user: r.subject, display: display.get(`${r.issuer} ${r.subject}`) ?? null, linked_at: iso(r.created_at) });
  }
  return out;
}
