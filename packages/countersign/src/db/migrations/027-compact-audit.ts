import { type Kysely, sql } from 'kysely';
import type { Capabilities } from '../connect.js';

/**
 * Storage per action (issue 19, bench/storage.ts), without changing what is stored or what the audit proves:
 *
 * - The audit's hashes (`hash`, `prev_hash`) as their 32 bytes where the database has a byte type
 *   (capabilities.binaryHashes: PostgreSQL bytea, 33 bytes a value instead of 65 as hex text, about 320
 *   bytes per action); the pool reads them back as the same hex text, and SQLite keeps the text. The column
 *   rewrite fires no row trigger, so the append-only triggers stay as they are. It rewrites the whole table
 *   inside the migration's transaction (its lock held throughout: minutes for millions of entries), and a
 *   value that is not hex, which only an edited row can hold, stops the upgrade (decode refuses it) rather
 *   than being stored as something else.
 * - `audit_actor` only over entries that name an actor: a quarter of entries are the system's (actor_id
 *   null), which no filter by actor can ask for (`actor_id in (…)` is never true of null).
 * - `actions_pending_expiry` (001, expires_at) dropped: `actions_pending_deadline` (023, expires_at, id) has
 *   the same predicate and leads with the same column, so it answers every query the first one did.
 * - The covering indexes of 014 for the dashboard's aggregates (`actions_created_stats`: created_at, status,
 *   decided_at, decided_by_type, tool, agent_name; `reviews_created`) served the rollup's back-fill
 *   (db/stats-rollup/backfill.ts), which migration 022 ran; the dashboard reads the rollup since. Only the
 *   history's time range (list-actions.ts: created_at from/to) still reads actions by creation time, which
 *   `actions_created` (created_at) answers as the first column of the wide one did. The wide one took a
 *   new entry at every status change (its columns change, so no update was HOT and none could be cleaned
 *   away early); one on created_at alone is a tenth of the size per entry, and its entries for a row's
 *   older versions are removed as the page fills (the key did not change).
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
export async function up(db: Kysely<any>, caps: Capabilities): Promise<void> {
  for (const ddl of caps.binaryHashes('audit_log', ['prev_hash', 'hash'])) await sql.raw(ddl).execute(db);
  await db.schema.dropIndex('audit_actor').execute();
  await db.schema
    .createIndex('audit_actor')
    .on('audit_log')
    .columns(['actor_id', 'seq'])
    .where(sql.ref('actor_id'), 'is not', null)
    .execute();
  await db.schema.dropIndex('actions_pending_expiry').execute();
  await db.schema.createIndex('actions_created').on('actions').columns(['created_at']).execute();
  await db.schema.dropIndex('actions_created_stats').execute();
  await db.schema.dropIndex('reviews_created').execute();
}
