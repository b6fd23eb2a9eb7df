import type { Kysely } from 'kysely';

/**
 * Durable event consumers. The consumer row is both the cursor and the lease: one node at a time holds a
 * named consumer (lease_owner until lease_expires_at) and moves its cursor past the events it handled, in
 * batches, so the cost is one row update per batch rather than a row per event. Only events whose handler
 * failed get rows of their own: a retry (attempts, next attempt) while they are retried, then a dead letter
 * that an admin can list and replay. Retention reads min(cursor) through consumers_cursor, and the lowest
 * seq still retried or dead-lettered, so it never deletes an event someone still owes a delivery.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('event_consumers')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('cursor', 'bigint', (c) => c.notNull())
    .addColumn('lease_owner', 'text')
    .addColumn('lease_expires_at', 'bigint')
    .addColumn('registered_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    /** Commit time of the last event the cursor passed (lag in ms = head's time - this). */
    .addColumn('cursor_ts', 'bigint')
    .execute();
  await db.schema.createIndex('event_consumers_cursor').on('event_consumers').columns(['cursor']).execute();

  await db.schema
    .createTable('event_consumer_retries')
    .addColumn('consumer', 'text', (c) => c.notNull())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('last_error', 'text', (c) => c.notNull())
    .addColumn('first_failed_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('event_consumer_retries_pk', ['consumer', 'seq'])
    .execute();
  await db.schema.createIndex('event_consumer_retries_due').on('event_consumer_retries').columns(['consumer', 'next_attempt_at']).execute();
  await db.schema.createIndex('event_consumer_retries_seq').on('event_consumer_retries').columns(['seq']).execute();

  await db.schema
    .createTable('event_dead_letters')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('consumer', 'text', (c) => c.notNull())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('last_error', 'text', (c) => c.notNull())
    .addColumn('dead_lettered_at', 'bigint', (c) => c.notNull())
    .addColumn('replayed_at', 'bigint')
    .addColumn('replayed_by', 'text')
    .execute();
  await db.schema.createIndex('event_dead_letters_consumer').on('event_dead_letters').columns(['consumer', 'id']).execute();
  await db.schema.createIndex('event_dead_letters_seq').on('event_dead_letters').columns(['seq']).execute();
}
