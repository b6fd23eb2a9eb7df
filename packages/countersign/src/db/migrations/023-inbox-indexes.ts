import { type Kysely, sql } from 'kysely';

/**
 * Two indexes for the inbox (domain/actions/inbox-rows.ts). It asks, for each pending action, whether the
 * caller voted on it: PostgreSQL answers that with one hashed pass over the caller's reviews, which without
 * an index by reviewer scans every review ever cast. And it walks pending actions by (deadline, id): the
 * partial index of 001 has the deadline only, so actions due at the same moment were all read to order
 * them by id. Queries name `status = 'pending'` as a literal, which is what lets SQLite use a partial index.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('reviews_reviewer').on('reviews').columns(['reviewer_id', 'action_id']).execute();
  await db.schema
    .createIndex('actions_pending_deadline')
    .on('actions')
    .columns(['expires_at', 'id'])
    .where(sql.ref('status'), '=', sql.lit('pending'))
    .execute();
}
