import type { Kysely } from 'kysely';

/**
 * When each API key was last used, so an admin can tell a key in daily use from one nobody has touched in
 * months before revoking it. Written at most once a minute per key (domain/identities/touch-key.ts), not
 * audited: it is activity, not a change of authority. Null: never used since this column exists.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('api_keys').addColumn('last_used_at', 'bigint').execute();
}
