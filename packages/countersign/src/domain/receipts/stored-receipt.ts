import { type KyselyPlugin, type QueryCreator, type RawBuilder, sql, type UnknownRow } from 'kysely';
import type { Tx } from '../../db/committer.js';
import type { DB } from '../../db/types.js';
import { CsError } from '../../lib/errors.js';

/**
 * Where an action's receipt is kept (migration 029): its own row in `receipts`, keyed by the action's id, not
 * a column of `actions`. A receipt is written once, with the approval, and never changed; the action's row is
 * updated after it (redeemed, result reported, expired unredeemed), and PostgreSQL copies the whole row on each
 * update (status is indexed, so no HOT update), so a column would cost the receipt's ~810 bytes again per
 * later version. Apart, it is stored once.
 *
 * Stored as its bytes, not its text: a compact JWS is three base64url segments (header, payload, signature),
 * 4/3 of the bytes they encode, so `body` holds the decoded segments in one frame (below), about 200 bytes
 * less a receipt, and `receiptFromBody` gives back the exact text. Only canonical segments are stored (each
 * re-encodes to itself: no padding, no stray bits), so nothing a reader gets can differ from what was issued.
 *
 * Writers insert it in the statement that approves the action where the database takes an INSERT inside WITH
 * (PostgreSQL: no added round trip), else in a statement of its own just before (SQLite, in process); readers
 * get it back in their own statement (`receiptBody`, turned into text by `receiptsAsText`). Receipts are never
 * updated or deleted, so the locks readers take apply to the action's row only, and no foreign key is kept (it
 * would lock the action's row for share on every insert, and the receipt is only ever written beside the
 * row's own update or insert).
 */

/** The frame: [header length, u16 BE][header][payload length, u32 BE][payload][signature]. */
const HEADER_LENGTH_BYTES = 2;
const PAYLOAD_LENGTH_BYTES = 4;

/** The decoded bytes of one base64url segment, refused unless they encode back to exactly that segment. */
function canonicalBytes(segment: string): Buffer {
  const bytes = Buffer.from(segment, 'base64url');
  if (bytes.toString('base64url') !== segment) {
    throw new CsError('internal', 'a receipt to store has a segment that is not canonical base64url; nothing was stored');
  }
  return bytes;
}

/** A compact JWS as the bytes `receipts.body` stores; throws (internal) unless decoding it back gives the same text. */
export function receiptBodyOf(text: string): Buffer {
  const segments = text.split('.');
  if (segments.length !== 3) throw new CsError('internal', 'a receipt to store is not a compact JWS (three segments)');
  const [header, payload, signature] = segments.map(canonicalBytes) as [Buffer, Buffer, Buffer];
  if (header.length > 0xffff) throw new CsError('internal', 'a receipt to store has a header longer than its frame allows');
  const body = Buffer.allocUnsafe(HEADER_LENGTH_BYTES + header.length + PAYLOAD_LENGTH_BYTES + payload.length + signature.length);
  let at = body.writeUInt16BE(header.length, 0);
  at += header.copy(body, at);
  at = body.writeUInt32BE(payload.length, at);
  at += payload.copy(body, at);
  signature.copy(body, at);
  return body;
}

/**
 * The receipt's text from its stored body, exactly as issued. SQLite returns a blob as its bytes; the
 * PostgreSQL pool returns every bytea as lowercase hex text (db/connect.ts), which is taken as that.
 */
export function receiptFromBody(stored: Buffer | Uint8Array | string): string {
  const body = typeof stored === 'string' ? Buffer.from(stored, 'hex') : Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
  const headerEnd = HEADER_LENGTH_BYTES + body.readUInt16BE(0);
  const payloadStart = headerEnd + PAYLOAD_LENGTH_BYTES;
  const payloadEnd = payloadStart + body.readUInt32BE(headerEnd);
  if (payloadEnd > body.length) throw new CsError('internal', 'a stored receipt is shorter than its frame says');
  return `${body.toString('base64url', HEADER_LENGTH_BYTES, headerEnd)}.${body.toString('base64url', payloadStart, payloadEnd)}.${body.toString('base64url', payloadEnd)}`;
}

/** The action's stored receipt body, as a scalar subquery for a select list: `receiptBody('a.id').as('receipt')`; null when none. */
export function receiptBody(actionIdColumn: string): RawBuilder<Buffer | string | null> {
  return sql<Buffer | string | null>`(select rc.body from receipts rc where rc.action_id = ${sql.ref(actionIdColumn)})`;
}

/** A row's `receipt` column, read by `receiptBody`, as its text (null stays null). */
export function withReceiptText<R extends { receipt?: unknown }>(row: R): R {
  const stored = row.receipt;
  if (stored === null || stored === undefined) return row;
  (row as { receipt: unknown }).receipt = receiptFromBody(stored as Buffer | string);
  return row;
}

/** A plugin for a select that reads `receiptBody(…).as('receipt')`: every row's receipt comes back as its text. */
export const receiptsAsText: KyselyPlugin = {
  transformQuery: (args) => args.node,
  transformResult: async ({ result }) => {
    for (const row of result.rows as UnknownRow[]) withReceiptText(row);
    return result;
  },
};

/** The insert of a receipt, for a statement of its own or a WITH. */
function insertReceipt(db: QueryCreator<DB>, actionId: string, text: string) {
  return db.insertInto('receipts').values({ action_id: actionId, body: receiptBodyOf(text) });
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
