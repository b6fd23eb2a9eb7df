import type { Kysely } from 'kysely';

/**
 * Requests to link a chat account (Slack, Teams) to a person: made by the chat channel when an unlinked
 * user asks, confirmed once by a signed-in browser session. Only the token's sha256 is kept. A request is
 * used once (`used_at`, compare-and-set) and only before `expires_at`. The link itself is a
 * `linked_identities` row (issuer `slack:<team>` / `teams:<tenant>`, subject the chat user id);
 * `confirmed_by` names who confirmed the request (a superseded request is used but never confirmed), so a
 * person's list shows the chat name the link was confirmed under.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('chat_link_requests')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('platform', 'text', (c) => c.notNull())
    .addColumn('workspace', 'text', (c) => c.notNull())
    .addColumn('chat_user', 'text', (c) => c.notNull())
    .addColumn('display', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .addColumn('confirmed_by', 'text')
    .execute();
  await db.schema
    .createIndex('chat_link_requests_account')
    .on('chat_link_requests')
    .columns(['platform', 'workspace', 'chat_user'])
    .execute();
}
