import { type QueryCreator, type RawBuilder, sql } from 'kysely';
import type { Tx } from '../../db/committer.js';
import type { DB } from '../../db/types.js';

/**
 * Where an action's receipt is kept (migration 029): its own row in `receipts`, keyed by the action's id, not
 * a column of `actions`. A receipt is written once, with the approval, and never changed; the action's row is
 * updated after it (redeemed, result reported, expired unredeemed), and PostgreSQL copies the whole row on each
 * update (status is indexed, so no HOT update), so a column would cost the receipt's ~880 bytes again per
 * later version. Apart, it is stored once.
 *
 * Writers insert it in the statement that approves the action where the database takes an INSERT inside WITH
 * (PostgreSQL: no added round trip), else in a statement of its own just before (SQLite, in process); readers
 * get it back in their own statement (`receiptText`). Receipts are never updated or deleted, so the locks
 * readers take apply to the action's row only, and no foreign key is kept (it would lock the action's row
 * for share on every insert, and the receipt is only ever written beside the row's own update or insert).
 */

/** The action's receipt, as a scalar subquery for a select list: `receiptText('a.id').as('receipt')`; null when none. */
export function receiptText(actionIdColumn: string): RawBuilder<string | null> {
  return sql<string | null>`(select rc.text from receipts rc where rc.action_id = ${sql.ref(actionIdColumn)})`;
}

/** The insert of a receipt, for a statement of its own or a WITH. */
function insertReceipt(db: QueryCreator<DB>, actionId: string, text: string) {
  return db.insertInto('receipts').values({ action_id: actionId, text });
}

/**
 * Where the database cannot put the receipt's insert in the writing statement, inserts it now (SQLite) and
 * returns the plain writer; else returns a writer whose next statement carries the insert in a WITH.
 */
export async function withReceipt(
  tx: Tx,
  writer: QueryCreator<DB>,
  actionId: string,
  text: string | null | undefined,
): Promise<QueryCreator<DB>> {
  if (text === null || text === undefined) return writer;
  if (!tx.caps.insertsInWith) {
    await insertReceipt(tx.db, actionId, text).execute();
    return writer;
  }
  // The WITH adds a name nothing reads: the statement is typed as one on the plain schema.
  return writer.with('receipt', (w) => insertReceipt(w as QueryCreator<DB>, actionId, text)) as unknown as QueryCreator<DB>;
}
