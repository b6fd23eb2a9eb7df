import { type Kysely, sql } from 'kysely';

/**
 * Delegation (out of office): a person (the delegator) names another (the delegate) who may vote for them
 * from `starts_at` until `ends_at` (exclusive), unless revoked first. Rows are never deleted: ended and
 * revoked delegations stay listed, and every vote cast under one names it.
 *
 * `reviews` learns whom a vote was cast for: `reviewer_id` stays the person who voted, `for_user_id` /
 * `for_email` the person whose vote it is (null: their own), `delegation_id` the delegation it used.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('delegations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('delegator_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('delegate_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('starts_at', 'bigint', (c) => c.notNull())
    .addColumn('ends_at', 'bigint', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    // Who created it: the delegator themselves, or an admin on their behalf.
    .addColumn('created_by_id', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    .addColumn('revoked_by_id', 'text')
    .execute();
  // A vote reads the delegations its voter holds; "my delegations" reads both sides.
  await db.schema.createIndex('delegations_delegate').on('delegations').columns(['delegate_id', 'ends_at']).execute();
  await db.schema.createIndex('delegations_delegator').on('delegations').columns(['delegator_id', 'ends_at']).execute();

  await db.schema.alterTable('reviews').addColumn('for_user_id', 'text').execute();
  await db.schema.alterTable('reviews').addColumn('for_email', 'text').execute();
  await db.schema.alterTable('reviews').addColumn('delegation_id', 'text').execute();
  // One person, one vote, also in the schema: each person's vote is cast once per action, by them or for them
  // (reviews_one_vote already allows one review per reviewer). The same statement in both dialects.
  await sql`create unique index reviews_one_vote_per_person on reviews (action_id, (coalesce(for_user_id, reviewer_id)))`.execute(db);
}
