import { type QueryCreator, sql } from 'kysely';
import type { Tx } from '../../db/committer.js';
import { frozenText } from '../../db/frozen-text.js';
import type { ActionsTable, DB, FrozenColumn, ReviewsTable } from '../../db/types.js';
import { CsError } from '../../lib/errors.js';
import { isId } from '../../lib/ids.js';
import { receiptBody, withReceipt, withReceiptText } from '../receipts/stored-receipt.js';
import { tallyChanged } from '../stats/tallies.js';
import { parseFrozenWorkflow } from '../workflow/frozen.js';
import { PLAIN_ACTION_COLUMNS, selectActionRows } from './action-rows.js';
import { type ActionStatus, nextPhase, parseStatus, phaseOf, statusOf, type Transition } from './status.js';

/**
 * What a transition's caller may change beside the status; `redeemed_at` only the redeem transition sets.
 * The frozen texts (policy, workflow) never change after creation.
 */
export type ActionChanges = Partial<Omit<ActionsTable, 'id' | 'status' | 'version' | 'updated_at' | 'redeemed_at' | FrozenColumn>>;
type RowChanges = Partial<Omit<ActionsTable, 'id' | 'status' | 'version' | 'updated_at' | FrozenColumn>>;

/**
 * Reads an action inside the transaction; not_found if absent. With `lock`,
 * the row is locked where the database has row locks, so concurrent votes on
 * one action from several gateways queue up instead of failing their
 * compare-and-set (SQLite's single writer already serializes them).
 */
export async function loadForUpdate(tx: Tx, id: string, opts: { lock?: boolean } = {}): Promise<ActionsTable> {
  // A string that is not an id names no action, and must not reach the database: PostgreSQL rejects NUL bytes in text.
  if (!isId(id)) throw new CsError('not_found', `no action with id ${id}`);
  const q = selectActionRows(tx.db).where('id', '=', id);
  const row = await (opts.lock && tx.caps.lockSuffix ? q.forUpdate() : q).executeTakeFirst();
  if (!row) throw new CsError('not_found', `no action with id ${id}`);
  return row;
}

/**
 * The action locked (as loadForUpdate) with its reviews in the order they were cast. Where the database
 * aggregates JSON, one statement: the reviews come from the statement's snapshot, taken before it waited
 * for the lock, so they are used only if the action's version in that snapshot is the one locked (every
 * vote moves the version in its own transaction); otherwise a vote committed meanwhile, and the reviews are
 * read again.
 */
export async function loadWithReviews(tx: Tx, id: string): Promise<{ row: ActionsTable; reviews: ReviewsTable[] }> {
  if (!tx.caps.jsonAgg) {
    const row = await loadForUpdate(tx, id, { lock: true });
    return { row, reviews: await loadReviews(tx, row.id) };
  }
  if (!isId(id)) throw new CsError('not_found', `no action with id ${id}`);
  // `receipt` comes as its stored body; withReceiptText turns it into the text before the row is used.
  const { rows } = await sql<ActionsTable & { seen_version: number; reviews_json: ReviewsTable[] }>`
    select ${sql.join(PLAIN_ACTION_COLUMNS.map((c) => sql.ref(`a.${c}`)))},
      ${frozenText('a.policy_digest')} as policy, ${frozenText('a.workflow_digest')} as workflow, ${receiptBody('a.id')} as receipt,
      (select s.version from actions s where s.id = a.id) as seen_version,
      (select coalesce(json_agg(r order by r.created_at, r.id), '[]'::json) from reviews r where r.action_id = a.id) as reviews_json
    from actions a where a.id = ${id} for update of a`.execute(tx.db);
  const found = rows[0];
  if (!found) throw new CsError('not_found', `no action with id ${id}`);
  const { seen_version, reviews_json, ...row } = withReceiptText(found);
  return { row, reviews: seen_version === row.version ? reviews_json : await loadReviews(tx, row.id) };
}

/** Locks an action unless another transaction holds it (then undefined): for background work that can come back later. */
export async function tryLock(tx: Tx, id: string): Promise<ActionsTable | undefined> {
  const q = selectActionRows(tx.db).where('id', '=', id);
  return (tx.caps.skipLocked ? q.forUpdate().skipLocked() : q).executeTakeFirst();
}

export function conflict(row: ActionsTable, attempted: Transition): CsError {
  const unredeemed = row.status === 'approved' && row.redeemed_at === null && (attempted === 'succeed' || attempted === 'fail');
  const why = unredeemed
    ? `action ${row.id} is approved but its receipt was never redeemed; redeem it (POST /v1/receipts/redeem) before running it and reporting a result`
    : `action ${row.id} is ${phaseOf(parseStatus(row.status), row.redeemed_at)}; it cannot be ${PAST[attempted]} now`;
  return new CsError('conflict', why, { details: { status: row.status, version: row.version } });
}

const PAST: Record<Transition, string> = {
  approve: 'approved',
  deny: 'denied',
  expire: 'expired',
  cancel: 'cancelled',
  redeem: 'redeemed',
  succeed: 'marked executed',
  fail: 'marked failed',
};

/**
 * Moves an action to its next phase with a compare-and-set on (status,
 * version): if anything changed it since `row` was read, nothing is written
 * and the caller gets a conflict. This is what makes approve/deny/expire/cancel
 * races end in exactly one final state, a committed deny unchangeable, and a
 * receipt redeemed once. Redeeming stamps `redeemed_at`; the status stays approved.
 */
export async function applyTransition(
  tx: Tx,
  row: ActionsTable,
  t: Transition,
  changes: ActionChanges,
  opts: WithVote = {},
): Promise<ActionsTable> {
  const status = parseStatus(row.status);
  const from = phaseOf(status, row.redeemed_at);
  const next = nextPhase(from, t);
  if (next === null) throw conflict(row, t);
  const to: ActionStatus = statusOf(next);
  if (t !== 'expire') assertBeforeDeadline(tx, row, t);
  const updated = await compareAndSet(tx, row, t, to, next === 'redeemed' ? { ...changes, redeemed_at: tx.now } : changes, opts);
  // A decided action's workflow deadlines mean nothing any more. Only the current stage can have any.
  if (status === 'pending' && row.workflow !== null && stageHasTimers(row)) {
    await tx.db.deleteFrom('timers').where('action_id', '=', row.id).execute();
  }
  return updated;
}

/** Fails closed: past its deadline a pending action can only expire, even if the scheduler has not swept it yet. */
export function assertBeforeDeadline(tx: Tx, row: ActionsTable, t: Transition): void {
  if (row.status === 'pending' && row.expires_at !== null && row.expires_at <= tx.now) {
    throw new CsError('conflict', `action ${row.id} passed its deadline undecided; it expires and cannot be ${PAST[t]} now`, {
      details: { status: 'expired', version: row.version },
    });
  }
}

/**
 * Records progress inside a review (a vote short of quorum, a new stage, an
 * escalation) without changing status: the same compare-and-set, so progress
 * and a final decision can never both win.
 */
export async function applyProgress(
  tx: Tx,
  row: ActionsTable,
  t: Transition,
  changes: ActionChanges,
  opts: WithVote = {},
): Promise<ActionsTable> {
  if (row.status !== 'pending') throw conflict(row, t);
  assertBeforeDeadline(tx, row, t);
  return compareAndSet(tx, row, t, 'pending', changes, opts);
}

export interface WithVote {
  /**
   * The vote this change records, written with it: in the compare-and-set's own statement where the database
   * takes an INSERT inside WITH (one round trip), else just before it. A lost compare-and-set fails the op,
   * and the committer rolls the vote back with it.
   */
  vote?: ReviewsTable;
}

async function compareAndSet(
  tx: Tx,
  row: ActionsTable,
  t: Transition,
  to: ActionStatus,
  changes: RowChanges,
  { vote }: WithVote,
): Promise<ActionsTable> {
  const together = vote !== undefined && tx.caps.insertsInWith;
  if (vote !== undefined && !together) await tx.db.insertInto('reviews').values(vote).execute();
  // The WITH adds a name nothing reads: the update is typed as one on the plain schema.
  const voting: QueryCreator<DB> = together
    ? (tx.db.with('vote', (db) => db.insertInto('reviews').values(vote)) as unknown as QueryCreator<DB>)
    : tx.db;
  // The receipt an approval issues goes to its own table, in this statement where the database allows (stored-receipt.ts).
  const { receipt, ...stored } = changes;
  const writer = await withReceipt(tx, voting, row.id, receipt);
  const res = await writer
    .updateTable('actions')
    .set({ ...stored, status: to, version: row.version + 1, updated_at: tx.now })
    .where('id', '=', row.id)
    .where('status', '=', row.status)
    .where('version', '=', row.version)
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) !== 1) {
    const current = await loadForUpdate(tx, row.id);
    throw conflict(current, t);
  }
  const updated = { ...row, ...changes, status: to, version: row.version + 1, updated_at: tx.now };
  // The dashboard's counts move with the status, in this transaction: every transition passes here.
  tallyChanged(tx, row, updated);
  return updated;
}

/** The action's reviews in the order they were cast. */
export function loadReviews(tx: Tx, actionId: string): Promise<ReviewsTable[]> {
  return tx.db.selectFrom('reviews').selectAll().where('action_id', '=', actionId).orderBy('created_at').orderBy('id').execute();
}

function stageHasTimers(row: ActionsTable): boolean {
  const stage = parseFrozenWorkflow(row.workflow as string).stages[row.stage ?? -1];
  return stage === undefined || stage.timeout_ms !== null || stage.levels.length > 0;
}
