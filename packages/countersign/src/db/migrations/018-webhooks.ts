import type { Kysely } from 'kysely';

/**
 * Signed outbound webhooks (Standard Webhooks). An endpoint's secret is kept encrypted (AES-256-GCM under a
 * key file beside the signing keyring), never in plain text: the gateway must sign with it later, so a hash
 * would not do. During a rotation the previous secret is kept (encrypted too) until `previous_expires_at`,
 * and deliveries are signed with both. `version` is the endpoint's compare-and-set counter.
 *
 * Each endpoint is delivered by its own durable consumer (`webhook-<id>`), so one dead endpoint never
 * delays another; `webhook_deliveries` is the delivery log: one row per attempt.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('webhook_endpoints')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    // JSON array of event types; empty: every type.
    .addColumn('event_types', 'text', (c) => c.notNull())
    .addColumn('allow_insecure', 'integer', (c) => c.notNull())
    .addColumn('allow_private', 'integer', (c) => c.notNull())
    .addColumn('secret_enc', 'text', (c) => c.notNull())
    .addColumn('previous_secret_enc', 'text')
    .addColumn('previous_expires_at', 'bigint')
    .addColumn('disabled_at', 'bigint')
    .addColumn('disabled_reason', 'text')
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('endpoint_id', 'text', (c) => c.notNull().references('webhook_endpoints.id'))
    // The outbox event (null for a test ping) and the webhook-id the receiver dedupes on.
    .addColumn('seq', 'bigint')
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('webhook_id', 'text', (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('status_code', 'integer')
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('webhook_deliveries_endpoint').on('webhook_deliveries').columns(['endpoint_id', 'id']).execute();
  // Retention deletes the oldest log rows (events.retention).
  await db.schema.createIndex('webhook_deliveries_at').on('webhook_deliveries').column('at').execute();
}
