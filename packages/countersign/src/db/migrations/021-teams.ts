import type { Kysely } from 'kysely';

/**
 * Microsoft Teams. `teams_conversations`: the conversation references the bot learned from activities
 * (installation, conversationUpdate, messages), so it can message a person or a channel proactively: the
 * conversation id, the Bot Connector service URL it lives on, the tenant, and for a personal chat the
 * person's Entra (AAD) object id and Teams user id. `teams_users`: each Teams user seen, by tenant and AAD
 * object id, with the Teams user id (the MRI a card's `refresh.userIds` names). `teams_cards`: every card
 * the bot posted, one per delivery (unique), with the activity id a later update PUTs to.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('teams_conversations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('service_url', 'text', (c) => c.notNull())
    // personal | channel | groupChat
    .addColumn('conversation_type', 'text', (c) => c.notNull())
    .addColumn('aad_object_id', 'text')
    .addColumn('teams_user_id', 'text')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('teams_conversations_person')
    .on('teams_conversations')
    .columns(['tenant_id', 'aad_object_id', 'conversation_type'])
    .execute();
  await db.schema
    .createTable('teams_users')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('aad_object_id', 'text', (c) => c.notNull())
    .addColumn('teams_user_id', 'text', (c) => c.notNull())
    .addColumn('service_url', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('teams_users_pk', ['tenant_id', 'aad_object_id'])
    .execute();
  await db.schema
    .createTable('teams_cards')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('delivery_id', 'text', (c) => c.notNull().unique())
    .addColumn('action_id', 'text', (c) => c.notNull())
    .addColumn('recipient', 'text', (c) => c.notNull())
    .addColumn('conversation_id', 'text', (c) => c.notNull())
    .addColumn('service_url', 'text', (c) => c.notNull())
    .addColumn('activity_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('teams_cards_action').on('teams_cards').columns(['action_id', 'id']).execute();
}
