import { type Kysely, sql } from 'kysely';
import { receiptBodyOf } from '../../domain/receipts/stored-receipt.js';
import type { Capabilities } from '../connect.js';

/** Receipts read (then inserted) at a time by the move. */
const CHUNK = 5000;
/** Rows a statement inserts: two parameters each keeps within every parameter limit. */
const ROWS_PER_INSERT = 500;

/**
 * An approved action's signed receipt (a compact JWS, ~810 bytes as text) moves from `actions.receipt` to its
 * own append-only table, `receipts (action_id, body)`, one row per approved action, as its bytes (~610: the
 * base64url segments decoded, framed by domain/receipts/stored-receipt.ts; bytea on PostgreSQL, blob on
 * SQLite: capabilities.bytesType). The receipt is written once, with the approval, and never changes, but the
 * action's row is updated after it (redeemed, result reported, expired unredeemed), and PostgreSQL keeps a
 * whole copy of the row per update (status is indexed: no HOT update), so the column cost the receipt again
 * in every later version (issue 19). Nothing a reader gets changes: domain/actions/action-rows.ts reads it
 * back by the action's id in the reading statement and turns it back into the exact text, and writers insert
 * it in the approving statement.
 *
 * Existing receipts are moved in id order, a chunk at a time, inside the migration's transaction (the model
 * is 028's move): decoded here, since SQLite has no base64url decode. A receipt that is not canonical
 * base64url, which only an edited row can hold, stops the upgrade (receiptBodyOf refuses it) rather than
 * being stored as something else. The column is then dropped: SQLite rewrites the table; on PostgreSQL,
 * whose DROP COLUMN only hides the bytes in every row until that row is next updated (and most rows that
 * hold a receipt never are again: executed actions), the table is then rewritten (capabilities.rewriteTable),
 * so an upgraded database does not hold each old receipt twice. That copy holds the table's lock for its
 * duration: minutes for millions of actions, like 028's (docs/operations.md). No foreign key: the receipt is
 * only ever written beside the action's own insert or update, and on PostgreSQL the key's check would lock
 * the action's row on every insert.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
export async function up(db: Kysely<any>, caps: Capabilities): Promise<void> {
  await db.schema
    .createTable('receipts')
    .addColumn('action_id', 'text', (c) => c.primaryKey())
    .addColumn('body', caps.bytesType, (c) => c.notNull())
    .execute();
  let after = '';
  for (;;) {
    const rows: { id: string; receipt: string }[] = await db
      .selectFrom('actions')
      .select(['id', 'receipt'])
      .where('id', '>', after)
      .where('receipt', 'is not', null)
      .orderBy('id')
      .limit(CHUNK)
      .execute();
    if (rows.length === 0) break;
    const moved = rows.map((r) => ({ action_id: r.id, body: receiptBodyOf(r.receipt) }));
    for (let i = 0; i < moved.length; i += ROWS_PER_INSERT)
      await db
        .insertInto('receipts')
        .values(moved.slice(i, i + ROWS_PER_INSERT))
        .execute();
    after = (rows.at(-1) as { id: string }).id;
  }
  await db.schema.alterTable('actions').dropColumn('receipt').execute();
  for (const ddl of caps.appendOnly('receipts')) await sql.raw(ddl).execute(db);
  for (const ddl of caps.rewriteTable('actions', 'actions_pkey')) await sql.raw(ddl).execute(db);
}
