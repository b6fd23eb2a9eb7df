import type { Tx } from '../../db/committer.js';
import { binOf } from '../../db/stats-rollup/histogram.js';
import type { Tally } from '../../db/stats-rollup/tallies.js';
import type { ActionsTable, ReviewsTable } from '../../db/types.js';

type Counted = Pick<ActionsTable, 'created_at' | 'status' | 'tool' | 'agent_name' | 'decided_at' | 'decided_by_type'>;

/**
 * What one action adds to the dashboard's rollup as it stands (`sign` -1 takes it back): its status, tool and
 * agent in the hour it was created, and, once a person decided it, its time to decision's histogram bin. The
 * same counts the back-fill computes in SQL (db/stats-rollup/backfill.ts); the tests hold the two equal.
 * Rules, grants, expiry and agents' cancellations are not review latency, so only decided_by_type 'user' is timed.
 */
export function actionTallies(row: Counted, sign: 1 | -1): Tally[] {
  const at = row.created_at;
  const out: Tally[] = [
    { kind: 'status', at, key: row.status, n: sign },
    { kind: 'tool', at, key: row.tool, n: sign },
    { kind: 'agent', at, key: row.agent_name, n: sign },
  ];
  if (row.decided_by_type === 'user' && row.decided_at !== null) {
    out.push({ kind: 'decision_time', at, key: String(binOf(row.decided_at - at)), n: sign });
  }
  return out;
}

/** A new action counts in the transaction that inserts it. */
export function tallyCreated(tx: Tx, row: Counted): void {
  for (const t of actionTallies(row, 1)) tx.tally(t);
}

/**
 * A changed action moves its counts in the transaction that changes it: what it counted before is taken
 * back and what it counts now added (the committer nets the unchanged ones out). Whatever the transition,
 * so a new column a transition sets can never leave the rollup behind.
 */
export function tallyChanged(tx: Tx, before: Counted, after: Counted): void {
  for (const t of actionTallies(before, -1)) tx.tally(t);
  for (const t of actionTallies(after, 1)) tx.tally(t);
}

/** A vote counts toward its reviewer's load in the hour it was cast. */
export function tallyVote(tx: Tx, vote: Pick<ReviewsTable, 'created_at' | 'decision' | 'reviewer_email'>): void {
  tx.tally({ kind: vote.decision === 'deny' ? 'vote_deny' : 'vote_approve', at: vote.created_at, key: vote.reviewer_email, n: 1 });
}
