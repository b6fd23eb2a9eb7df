import type { Kysely } from 'kysely';

/**
 * Browser sessions and local accounts. Every secret a browser or a link carries (session tokens, setup and
 * reset links) is 32 random bytes and only its sha256 is stored: with that much entropy a slow hash adds
 * nothing, and a leaked table opens no session. Passwords are the exception, hashed with scrypt (see
 * domain/identities/passwords/kdf.ts) because people choose them.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('method', 'text', (c) => c.notNull())
    // When the session last authenticated strongly (passkey, IdP auth_time): step-up stages read it.
    .addColumn('strong_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    // Touched at most once a minute (see touch-session.ts), so the idle time-out costs no write per request.
    .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
    // The absolute time-out, fixed at creation.
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    .addColumn('user_agent', 'text')
    .addColumn('ip', 'text')
    .execute();
  await db.schema.createIndex('sessions_user').on('sessions').columns(['user_id', 'revoked_at']).execute();

  await db.schema
    .createTable('local_passwords')
    .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id'))
    // `scrypt$N$r$p$salt$hash` (base64url): the parameters travel with the hash so they can be raised later.
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('one_time_links')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    // 'setup' (first admin, no person yet) or 'password_reset' (for user_id).
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .execute();

  // Failed sign-ins per account and per address (key `account:<email>` / `address:<ip>`), for throttling.
  await db.schema
    .createTable('sign_in_throttle')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('first_failure_at', 'bigint', (c) => c.notNull())
    .addColumn('locked_until', 'bigint')
    .execute();
}
