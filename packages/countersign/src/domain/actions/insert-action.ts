import type { QueryCreator } from 'kysely';
import type { Tx } from '../../db/committer.js';
import { PreparedQuery } from '../../db/prepared.js';
import { ACTION_COLUMNS, type ActionsTable, type DB, type StoredActionsTable } from '../../db/types.js';
import { receiptBodyOf } from '../receipts/stored-receipt.js';
import { frozenDigest } from './frozen-digest.js';

/**
 * Writes a new action: its frozen texts (the policy decision, the workflow) go to `frozen_documents` once per
 * distinct text, keyed by their SHA-256, and the row keeps the digests (migration 028).
 *
 * A document is inserted if absent every time, in the transaction of the action that names it, never
 * skipped on the strength of this process having written it before: a restored backup or another node's
 * database may lack it, and an action must never name a document that is not there. `ON CONFLICT DO
 * NOTHING` lets concurrent creators of one new text both succeed (on PostgreSQL the second waits for the
 * first's commit and then does nothing; a cycle of such waits between two nodes' batches is a deadlock the
 * committer retries one op at a time). Where the database takes an INSERT inside WITH, the documents and
 * the action are one statement, so the allowed proposal's transaction keeps its round trips.
 *
 * An action approved as it is created (by the policy or a grant) comes with its receipt: it is inserted into
 * `receipts` (migration 029, as the bytes domain/receipts/stored-receipt.ts frames) in the same statement, or
 * just before the action on SQLite. Unlike a document it is the action's own, so a plain insert: a second
 * one is a bug.
 */

type Params = StoredActionsTable & { policy_text: string; doc2_digest: string | Buffer; doc2_text: string; receipt_body: Buffer | null };

// Always two document rows: the second is the workflow, or the policy decision again when there is none
// (DO NOTHING skips a repeated key within one statement), so one compiled statement serves every action.
const insertDocs = (db: QueryCreator<DB>, p: <K extends keyof Params & string>(name: K) => Params[K]) =>
  db
    .insertInto('frozen_documents')
    .values([
      { digest: p('policy_digest'), text: p('policy_text') },
      { digest: p('doc2_digest') as string, text: p('doc2_text') },
    ])
    .onConflict((oc) => oc.column('digest').doNothing());

const actionValues = (p: <K extends keyof Params & string>(name: K) => Params[K]) =>
  Object.fromEntries(ACTION_COLUMNS.map((c) => [c, p(c)])) as never;

// An action approved at once (policy, grant) has its receipt already: it goes to `receipts` (migration 029).
const insertReceipt = (db: QueryCreator<DB>, p: <K extends keyof Params & string>(name: K) => Params[K]) =>
  db.insertInto('receipts').values({ action_id: p('id'), body: p('receipt_body') as Buffer });

// The hot write of the gateway: compiled once (see PreparedQuery).
const insertTogether = new PreparedQuery<Params, unknown>((db, p) =>
  db
    .with('docs', (w) => insertDocs(w, p))
    .insertInto('actions')
    .values(actionValues(p)),
);
const insertApprovedTogether = new PreparedQuery<Params, unknown>((db, p) =>
  db
    .with('docs', (w) => insertDocs(w, p))
    .with('receipt', (w) => insertReceipt(w as unknown as QueryCreator<DB>, p))
    .insertInto('actions')
    .values(actionValues(p)),
);
const insertDocsAlone = new PreparedQuery<Params, unknown>((db, p) => insertDocs(db, p));
const insertReceiptAlone = new PreparedQuery<Params, unknown>((db, p) => insertReceipt(db, p));
const insertActionAlone = new PreparedQuery<Params, unknown>((db, p) => db.insertInto('actions').values(actionValues(p)));

export async function insertAction(tx: Tx, row: ActionsTable): Promise<void> {
  const { policy, workflow, receipt, ...rest } = row;
  const policyDigest = tx.caps.storedHash(frozenDigest(policy)) as string;
  const workflowDigest = workflow === null ? null : (tx.caps.storedHash(frozenDigest(workflow)) as string);
  const params: Params = {
    ...rest,
    policy_digest: policyDigest,
    workflow_digest: workflowDigest,
    policy_text: policy,
    doc2_digest: workflowDigest ?? policyDigest,
    doc2_text: workflow ?? policy,
    receipt_body: receipt === null ? null : receiptBodyOf(receipt),
  };
  if (tx.caps.insertsInWith) {
    await (receipt === null ? insertTogether : insertApprovedTogether).execute(tx.db, params);
    return;
  }
  await insertDocsAlone.execute(tx.db, params);
  if (receipt !== null) await insertReceiptAlone.execute(tx.db, params);
  await insertActionAlone.execute(tx.db, params);
}
