import { type Kysely, type SelectQueryBuilder, sql } from 'kysely';
import { frozenText } from '../../db/frozen-text.js';
import { ACTION_COLUMNS, type ActionsTable, type DB } from '../../db/types.js';
import { receiptBody, receiptsAsText } from '../receipts/stored-receipt.js';

/**
 * Reading actions back as the domain knows them (`ActionsTable`): the stored row (`StoredActionsTable`)
 * keeps the digests of its frozen texts, and each text comes from `frozen_documents` by its digest
 * (migration 028), and its receipt from `receipts` by the action's id (migration 029), in the same
 * statement (stored as its bytes, turned back into its text as the rows arrive: `receiptsAsText`), so every
 * reader gets exactly the text that was written, with no extra round trip (a primary-key probe per text in
 * the statement). The lock clauses readers add (`FOR UPDATE`, `SKIP LOCKED`) apply to the action's row only:
 * documents and receipts are never written after they are inserted.
 */

/** The stored columns readers take as they are (everything but the digests). */
export const PLAIN_ACTION_COLUMNS = ACTION_COLUMNS.filter(
  (c): c is Exclude<(typeof ACTION_COLUMNS)[number], 'policy_digest' | 'workflow_digest'> =>
    c !== 'policy_digest' && c !== 'workflow_digest',
);

/** The action's frozen policy decision (JSON text). */
export const policyText = () => frozenText<string>('actions.policy_digest').as('policy');

/** The action's frozen workflow (JSON text), null when none was frozen. */
export const workflowText = () => frozenText('actions.workflow_digest').as('workflow');

/** `select` of every column of the domain's action row: add `where`, `orderBy`, locks as before. */
export function selectActionRows(db: Kysely<DB>): SelectQueryBuilder<DB, 'actions', ActionsTable> {
  return db
    .withPlugin(receiptsAsText)
    .selectFrom('actions')
    .select([
      ...PLAIN_ACTION_COLUMNS,
      policyText(),
      workflowText(),
      receiptBody('actions.id').as('receipt'),
    ]) as unknown as SelectQueryBuilder<DB, 'actions', ActionsTable>;
}

/**
 * The digests of the frozen workflows named `name`, as a subquery for `workflow_digest in (…)`. A frozen
 * workflow is stored as JSON.stringify({ name, expires_after_ms, stages }) (freezeWorkflow), so its text
 * starts with the name: a prefix match needs no JSON functions in either dialect, and each distinct text is
 * matched once. Policy decisions share the table but start with `{"rule":`, so they never match.
 */
export function workflowsNamed(db: Kysely<DB>, name: string) {
  const prefix = escapeLike(`{"name":${JSON.stringify(name)},`);
  return db
    .selectFrom('frozen_documents')
    .select('digest')
    .where(sql<boolean>`text like ${`${prefix}%`} escape '\\'`);
}

/** LIKE's wildcards and its escape character (a backslash) taken literally. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
