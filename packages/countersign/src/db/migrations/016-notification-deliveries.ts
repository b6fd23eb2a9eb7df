import type { Kysely } from 'kysely';

/**
 * One row per notification sent or owed: (the notify consumer's idempotency key for the event, channel,
 * recipient) is unique, so a retried or replayed event never sends again what was sent. `status`:
 * queued (being sent), sent, failed (will be retried with the event), dead (the event was dead-lettered).
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('notification_deliveries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('event_key', 'text', (c) => c.notNull())
    .addColumn('event_seq', 'bigint', (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('event_ts', 'bigint', (c) => c.notNull())
    .addColumn('action_id', 'text')
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('recipient', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('last_error', 'text')
    .addColumn('external_ref', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('sent_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('notification_deliveries_once')
    .on('notification_deliveries')
    .columns(['event_key', 'channel', 'recipient'])
    .unique()
    .execute();
  await db.schema.createIndex('notification_deliveries_action').on('notification_deliveries').columns(['action_id', 'id']).execute();
  await db.schema.createIndex('notification_deliveries_status').on('notification_deliveries').columns(['status', 'id']).execute();
}
