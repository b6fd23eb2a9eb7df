import { type Kysely, sql } from 'kysely';
import type { Capabilities } from '../connect.js';

/**
 * Proof: approval receipts (one per approved action, redeemable once),
 * signed audit checkpoints, and an audit log the database itself refuses to
 * change.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
export async function up(db: Kysely<any>, caps: Capabilities): Promise<void> {
  // The receipt issued when the action was approved, and when (if ever) it was redeemed.
  await db.schema.alterTable('actions').addColumn('receipt', 'text').execute();
  await db.schema.alterTable('actions').addColumn('receipt_jti', 'text').execute();
  /** End of the execution window: an approved action not redeemed by then expires. */
  await db.schema.alterTable('actions').addColumn('execute_by', 'bigint').execute();
  await db.schema.alterTable('actions').addColumn('redeemed_at', 'bigint').execute();
  await db.schema
    .createIndex('actions_unredeemed_window')
    .on('actions')
    .columns(['execute_by'])
    .where(sql<boolean>`status = 'approved' and redeemed_at is null`)
    .execute();

  await db.schema
    .createTable('audit_checkpoints')
    .addColumn('size', 'bigint', (c) => c.primaryKey())
    .addColumn('head_hash', 'text', (c) => c.notNull())
    .addColumn('kid', 'text', (c) => c.notNull())
    /** The signed note, exactly as served and verified. */
    .addColumn('note', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  // Public halves of every signing key any gateway has used, so every node's JWKS can verify every receipt and checkpoint.
  await db.schema
    .createTable('signing_keys')
    .addColumn('kid', 'text', (c) => c.primaryKey())
    .addColumn('public_jwk', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  for (const ddl of caps.appendOnly('audit_log')) await sql.raw(ddl).execute(db);
}
