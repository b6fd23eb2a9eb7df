import { type Kysely, sql } from 'kysely';
import type { Capabilities } from '../connect.js';

/**
 * An approved action's signed receipt (a compact JWS, ~880 bytes) moves from `actions.receipt` to its own
 * append-only table, `receipts (action_id, text)`, one row per approved action. The receipt is written once,
 * with the approval, and never changes, but the action's row is updated after it (redeemed, result reported,
 * expired unredeemed), and PostgreSQL keeps a whole copy of the row per update (status is indexed: no HOT
 * update), so the column cost the receipt again in every later version (issue 19). Nothing a reader gets
 * changes: domain/actions/action-rows.ts reads it back by the action's id in the reading statement
 * (domain/receipts/stored-receipt.ts), and writers insert it in the approving statement.
 *
 * Existing receipts are copied by one INSERT … SELECT in id order, inside the migration's transaction (the
 * database does the copy: nothing to compute per row, unlike 028's digests, so no rows come through the
 * gateway). The column is then dropped: SQLite rewrites the table; on PostgreSQL, whose DROP COLUMN only hides
 * the bytes in every row until that row is next updated (and most rows that hold a receipt never are again:
 * executed actions), the table is then rewritten (capabilities.rewriteTable), so an upgraded database does not
 * hold each old receipt twice. That copy holds the table's lock for its duration: minutes for millions of
 * actions, like 028's (docs/operations.md). No foreign key: the receipt is only ever written beside the
 * action's own insert or update, and on PostgreSQL the key's check would lock the action's row on every insert.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
export async function up(db: Kysely<any>, caps: Capabilities): Promise<void> {
  await db.schema
    .createTable('receipts')
    .addColumn('action_id', 'text', (c) => c.primaryKey())
    .addColumn('text', 'text', (c) => c.notNull())
    .execute();
  await sql`insert into receipts (action_id, text) select id, receipt from actions where receipt is not null order by id`.execute(db);
  await db.schema.alterTable('actions').dropColumn('receipt').execute();
  for (const ddl of caps.appendOnly('receipts')) await sql.raw(ddl).execute(db);
  for (const ddl of caps.rewriteTable('actions', 'actions_pkey')) await sql.raw(ddl).execute(db);
}
