import type { Kysely } from 'kysely';

/**
 * Passkeys (WebAuthn) as a second factor for local accounts.
 *
 * `passkeys`: one row per credential a person registered. The public key and credential id are not
 * secrets (the authenticator keeps the private key); `sign_count` is the authenticator's counter, which
 * must rise with every use (a counter going backwards means a cloned authenticator).
 *
 * `webauthn_challenges`: one row per ceremony started (registration, the passkey step of a sign-in, a
 * re-authentication), keyed by sha256(challenge) and bound to the session or the pending sign-in that
 * asked for it. A row is consumed with a compare-and-set on `used_at`, so a challenge works once on every
 * gateway sharing the database. The pending sign-in token is likewise stored only as sha256.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('passkeys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
    // base64url, as the browser reports it.
    .addColumn('credential_id', 'text', (c) => c.notNull().unique())
    // The COSE public key, base64url.
    .addColumn('public_key', 'text', (c) => c.notNull())
    .addColumn('sign_count', 'bigint', (c) => c.notNull())
    // JSON array of transports ("internal", "usb", "hybrid"…), as the browser reported them.
    .addColumn('transports', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    // 'singleDevice' or 'multiDevice'; backed_up 0/1 (a synced passkey).
    .addColumn('device_type', 'text', (c) => c.notNull())
    .addColumn('backed_up', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint')
    .execute();
  await db.schema.createIndex('passkeys_user').on('passkeys').column('user_id').execute();

  await db.schema
    .createTable('webauthn_challenges')
    .addColumn('challenge_hash', 'text', (c) => c.primaryKey())
    // 'register' | 'sign_in' | 'reauthenticate'
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
    // The session that asked (register, reauthenticate); null for a sign-in, which has no session yet.
    .addColumn('session_id', 'text')
    // sha256 of the pending sign-in token (sign_in only).
    .addColumn('pending_hash', 'text', (c) => c.unique())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .execute();
  await db.schema.createIndex('webauthn_challenges_expiry').on('webauthn_challenges').column('expires_at').execute();
}
