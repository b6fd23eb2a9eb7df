import type { Deps } from '../../deps.js';
import type { StatsRange } from './range.js';
import { rollupTotals } from './read-rollup.js';

const TOP = 10;

/** The tools or agents with the most actions created in the range, most first (ties by name). */
export async function topBy(deps: Deps, r: StatsRange, family: 'tool' | 'agent'): Promise<{ name: string; count: number }[]> {
  const rows = await rollupTotals(deps, r, family, TOP);
  return rows.map((row) => ({ name: row.key, count: row.n }));
}

/** Each person's load: votes cast in the range (every vote of a quorum counts), most first; at most 20 people. */
export async function reviewerLoad(
  deps: Deps,
  r: StatsRange,
): Promise<{ reviewer: string; votes: number; approve: number; deny: number }[]> {
  const [approves, denies] = await Promise.all([rollupTotals(deps, r, 'vote_approve'), rollupTotals(deps, r, 'vote_deny')]);
  const by = new Map<string, { reviewer: string; votes: number; approve: number; deny: number }>();
  const add = (rows: { key: string; n: number }[], as: 'approve' | 'deny') => {
    for (const row of rows) {
      const e = by.get(row.key) ?? { reviewer: row.key, votes: 0, approve: 0, deny: 0 };
      e.votes += row.n;
      e[as] += row.n;
      by.set(row.key, e);
    }
  };
  add(approves, 'approve');
  add(denies, 'deny');
  return [...by.values()].sort((a, b) => b.votes - a.votes || a.reviewer.localeCompare(b.reviewer)).slice(0, 20);
}
