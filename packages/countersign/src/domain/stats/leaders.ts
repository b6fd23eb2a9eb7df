import { sql } from 'kysely';
import type { Deps } from '../../deps.js';
import type { StatsRange } from './range.js';

const TOP = 10;

/** The tools or agents with the most actions created in the range, most first (ties by name). */
export async function topBy(deps: Deps, r: StatsRange, column: 'tool' | 'agent_name'): Promise<{ name: string; count: number }[]> {
  // Grouped by an expression, not the bare column: given GROUP BY tool, SQLite's planner may walk the whole
  // (tool, id) index in order and look every row up for its created_at (52 s at 1M actions, bench/oversight.ts)
  // instead of range-scanning the covering created_at index and grouping in a temporary b-tree (about 1 s).
  const name = sql<string>`${sql.ref(column)} || ''`;
  const rows = await deps.db.read
    .selectFrom('actions')
    .select((eb) => [name.as('name'), eb.fn.countAll<number | string>().as('n')])
    .where('created_at', '>=', r.from)
    .where('created_at', '<', r.to)
    .groupBy(name)
    .orderBy('n', 'desc')
    .orderBy('name')
    .limit(TOP)
    .execute();
  return rows.map((row) => ({ name: String(row.name), count: Number(row.n) }));
}

/** Each person's load: votes cast in the range (every vote of a quorum counts), most first; at most 20 people. */
export async function reviewerLoad(
  deps: Deps,
  r: StatsRange,
): Promise<{ reviewer: string; votes: number; approve: number; deny: number }[]> {
  const rows = await deps.db.read
    .selectFrom('reviews')
    .select((eb) => ['reviewer_email', 'decision', eb.fn.countAll<number | string>().as('n')])
    .where('created_at', '>=', r.from)
    .where('created_at', '<', r.to)
    .groupBy(['reviewer_email', 'decision'])
    .execute();
  const by = new Map<string, { reviewer: string; votes: number; approve: number; deny: number }>();
  for (const row of rows) {
    const e = by.get(row.reviewer_email) ?? { reviewer: row.reviewer_email, votes: 0, approve: 0, deny: 0 };
    const n = Number(row.n);
    e.votes += n;
    if (row.decision === 'deny') e.deny += n;
    else e.approve += n;
    by.set(row.reviewer_email, e);
  }
  return [...by.values()].sort((a, b) => b.votes - a.votes || a.reviewer.localeCompare(b.reviewer)).slice(0, 20);
}
