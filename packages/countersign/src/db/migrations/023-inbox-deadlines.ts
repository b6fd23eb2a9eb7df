import { type Kysely, sql } from 'kysely';

/**
 * The inbox walks pending actions earliest deadline first (domain/actions/inbox-rows.ts). A partial index
 * over the pending ones only, by (expires_at, id), lets it read a page in that order instead of sorting
 * every pending action per request; it holds no decided action, so it stays small at any history size.
 * Queries name `status = 'pending'` as a literal, which is what lets SQLite use a partial index.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('actions_pending_deadline')
    .on('actions')
    .columns(['expires_at', 'id'])
    .where(sql.ref('status'), '=', sql.lit('pending'))
    .execute();
}
