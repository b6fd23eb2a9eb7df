import type { Kysely } from 'kysely';

/**
 * Single sign-on with an OpenID Connect provider.
 *
 * `linked_identities`: a person is found by the IdP's (issuer, subject) pair, never by email alone (an
 * email can be reassigned or unverified at the IdP; the subject is stable and unique per issuer).
 *
 * `oidc_login_attempts`: one row per sign-in started, keyed by sha256(state) so a database reader cannot
 * finish someone's sign-in from the table alone. The row holds the nonce and the PKCE verifier (both must
 * be sent or compared in clear later, so they cannot be hashed) and is consumed with a compare-and-set on
 * `consumed_at`: a replayed state is refused on every gateway sharing the database.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('linked_identities')
    .addColumn('issuer', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('email', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_sign_in_at', 'bigint')
    .addPrimaryKeyConstraint('linked_identities_pk', ['issuer', 'subject'])
    .execute();
  await db.schema.createIndex('linked_identities_user').on('linked_identities').column('user_id').execute();
  await db.schema
    .createTable('oidc_login_attempts')
    .addColumn('state_hash', 'text', (c) => c.primaryKey())
    .addColumn('nonce', 'text', (c) => c.notNull())
    .addColumn('code_verifier', 'text', (c) => c.notNull())
    .addColumn('return_to', 'text', (c) => c.notNull())
    .addColumn('max_age', 'integer')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('consumed_at', 'bigint')
    .execute();
  await db.schema.createIndex('oidc_login_attempts_expiry').on('oidc_login_attempts').column('expires_at').execute();
}
