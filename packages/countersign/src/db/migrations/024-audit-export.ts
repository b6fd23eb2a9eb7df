import type { Kysely } from 'kysely';

/**
 * One row per SIEM sink (audit-export/): its cursor over the audit log and its lease, like a durable event
 * consumer's, but counted in audit sequence numbers (audit entries are not events, and retention never
 * deletes them, so the export owes nothing to the outbox). `cursor_hash` is the hash of the last entry sent:
 * the next batch must link to it. A failed send does not move the cursor (a SIEM must get every entry, in
 * order): `attempts` and `next_attempt_at` hold the back-off, so every node and a restart honour it.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('audit_export_sinks')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('cursor', 'bigint', (c) => c.notNull())
    .addColumn('cursor_hash', 'text', (c) => c.notNull())
    .addColumn('cursor_ts', 'bigint')
    .addColumn('lease_owner', 'text')
    .addColumn('lease_expires_at', 'bigint')
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at', 'bigint')
    .addColumn('last_error', 'text')
    .addColumn('sent_at', 'bigint')
    .addColumn('registered_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
}
