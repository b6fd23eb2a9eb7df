import type { Kysely } from 'kysely';

/**
 * The Slack channel's state. `slack_messages`: every message posted about an action (where: the channel
 * id and Slack's `ts`, which `chat.update` needs), written with the delivery that posted it, so a
 * redelivered event never posts twice and a decision from any channel updates every message.
 * `slack_seen_requests`: the signatures of interaction requests already accepted, until they are too old
 * to pass the five-minute check anyway: a replay is refused on every node, not only the one that saw it.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('slack_messages')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('action_id', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('ts', 'text', (c) => c.notNull())
    .addColumn('delivery_id', 'text', (c) => c.notNull().unique())
    .addColumn('recipient', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('outcome', 'text')
    .execute();
  await db.schema.createIndex('slack_messages_action').on('slack_messages').columns(['action_id']).execute();
  await db.schema.createIndex('slack_messages_where').on('slack_messages').columns(['channel', 'ts']).unique().execute();
  await db.schema
    .createTable('slack_seen_requests')
    .addColumn('signature', 'text', (c) => c.primaryKey())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('slack_seen_requests_expiry').on('slack_seen_requests').columns(['expires_at']).execute();
}
