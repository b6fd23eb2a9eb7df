import { type Kysely, sql } from 'kysely';
import type { DB } from '../types.js';

export const HOUR = 3_600_000;
export const DAY = 86_400_000;
/** The rollup keeps every count twice: per hour (partial days, hourly charts) and per day (long ranges). */
export const GRAINS = [HOUR, DAY] as const;

/**
 * What the dashboard counts (table stats_rollup, migration 022): actions by status now, by tool and by agent,
 * a person's time to decision by histogram bin, all by the hour the action was created in; and votes cast,
 * by reviewer, by the hour of the vote.
 */
export const ROLLUP_KINDS = ['status', 'tool', 'agent', 'decision_time', 'vote_approve', 'vote_deny'] as const;
export type RollupKind = (typeof ROLLUP_KINDS)[number];

/** One change to one count: `n` (negative to take back) for `key` of `kind` in the hour holding `at` (epoch ms). */
export interface Tally {
  kind: RollupKind;
  at: number;
  key: string;
  n: number;
}

export interface RollupRow {
  kind: RollupKind;
  grain: number;
  start: number;
  key: string;
  n: number;
}

/** Rows an upsert carries: 5 parameters each, well under SQLite's limit on bound parameters. */
const CHUNK = 150;

/**
 * Applies a transaction's tallies to the rollup, inside that transaction (the committer calls it before the
 * log append, so a count commits or rolls back with the change it counts). Tallies for the same row are
 * summed first (a batch of proposals in one hour is a few rows, not three per proposal) and rows that net to
 * zero are skipped (a transition that keeps an action's tool takes back and adds the same count). The rows are
 * written in key order, so concurrent transactions on PostgreSQL lock them in the same order and cannot
 * deadlock on them. One upsert statement on both dialects.
 */
export async function applyTallies(db: Kysely<DB>, tallies: readonly Tally[]): Promise<void> {
  const rows = rollupRows(tallies);
  for (let i = 0; i < rows.length; i += CHUNK) {
    await db
      .insertInto('stats_rollup')
      .values(rows.slice(i, i + CHUNK))
      .onConflict((oc) => oc.columns(['kind', 'grain', 'start', 'key']).doUpdateSet({ n: sql`stats_rollup.n + excluded.n` }))
      .execute();
  }
}

/**
 * The rollup rows a transaction's tallies add up to: summed per row, the ones netting to zero left out, in
 * key order. applyTallies writes them; on PostgreSQL the committer's one appending statement does
 * (db/append-logs.ts), after it has taken the chain head, so no two committers ever hold rollup rows at once.
 */
export function rollupRows(tallies: readonly Tally[]): RollupRow[] {
  if (tallies.length === 0) return [];
  const merged = new Map<string, RollupRow>();
  for (const t of tallies) {
    for (const grain of GRAINS) {
      const start = t.at - (t.at % grain);
      const id = `${t.kind}\u0000${grain}\u0000${start}\u0000${t.key}`;
      const row = merged.get(id);
      if (row) row.n += t.n;
      else merged.set(id, { kind: t.kind, grain, start, key: t.key, n: t.n });
    }
  }
  return [...merged.values()].filter((r) => r.n !== 0).sort(byKey);
}

function byKey(a: RollupRow, b: RollupRow): number {
  if (a.kind !== b.kind) return a.kind < b.kind ? -1 : 1;
  if (a.grain !== b.grain) return a.grain - b.grain;
  if (a.start !== b.start) return a.start - b.start;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}
