import { type Expression, type ExpressionBuilder, type SqlBool, sql } from 'kysely';
import type { DB } from '../../db/types.js';
import type { Deps } from '../../deps.js';
import { isId } from '../../lib/ids.js';
import { workflowText } from './action-rows.js';
import type { InboxFilter } from './inbox.js';

/**
 * A pending action as the inbox classifies it: the columns the vote rules read (the workflow by its key:
 * its text is read once per key, by workflowTexts), and the facts about it that depend on other rows,
 * worked out by the database (`past`: its deadline has passed; `voted`: the caller voted on it; `cast`:
 * one character per delegator whose vote the caller holds, '1' when that person's vote was cast on it
 * already, by them or a delegate).
 */
export interface PendingRow {
  id: string;
  workflow_key: string | null;
  stage: number | null;
  escalations: number;
  agent_owner_id: string;
  on_behalf_of: string | null;
  expires_at: number | null;
  past: boolean;
  voted: boolean;
  cast: string;
}

/** Pending actions with the same answer from the vote rules, as one row, with how many there are. */
export type PendingClass = PendingRow & { count: number };

/** Whose votes the flags are about: the caller, and the delegators whose vote they hold, in this order. */
export interface Voters {
  id: string;
  delegators: readonly string[];
}

type Eb = ExpressionBuilder<DB & { a: DB['actions'] }, 'a'>;

/**
 * The pending actions matching the filters, without the flags about votes. `status = 'pending'` is a
 * literal so both databases may use the partial indexes of migrations 023 and 026 (a bound parameter hides
 * them from SQLite); without filters, every column read is in the index of 026.
 */
function pendingQuery(deps: Deps, f: InboxFilter, now: number) {
  let q = deps.db.read
    .selectFrom('actions as a')
    .where('a.status', '=', sql.lit('pending'))
    .select(['a.id', 'a.workflow_key', 'a.stage', 'a.escalations', 'a.agent_owner_id', 'a.on_behalf_of', 'a.expires_at'])
    .select(sql<number>`case when a.expires_at is not null and a.expires_at <= ${now} then 1 else 0 end`.as('past'));
  if (f.agent !== undefined) {
    const agent = f.agent;
    q = isId(agent) ? q.where('a.agent_id', '=', agent) : q.where('a.agent_name', '=', agent);
  }
  if (f.tool !== undefined) q = q.where('a.tool', '=', f.tool);
  if (f.olderThanMs !== undefined) q = q.where('a.created_at', '<=', now - f.olderThanMs);
  return q;
}

/**
 * Reviews of pending actions only: a pending action's id is at least the smallest pending id. PostgreSQL
 * answers these flags by hashing every review they could match; ids being time-ordered, this bound (one
 * entry of `actions(status, id)`) limits that to the votes on actions proposed since the oldest pending one,
 * instead of every vote in the history (50,000 of one person's at 1M actions).
 */
function onPending(eb: Eb) {
  return eb
    .selectFrom('reviews as r')
    .select(sql.lit(1).as('one'))
    .whereRef('r.action_id', '=', 'a.id')
    .where('r.action_id', '>=', eb.selectFrom('actions').select(eb.fn.min('id').as('oldest')).where('status', '=', sql.lit('pending')));
}

function votedBy(eb: Eb, reviewerId: string): Expression<SqlBool> {
  return eb.exists(onPending(eb).where('r.reviewer_id', '=', reviewerId));
}

/** A vote counts for `for_user_id` when cast by a delegate, else for its reviewer (as delegation.ts reads it). */
function castFlags(eb: Eb, delegators: readonly string[]) {
  if (delegators.length === 0) return sql<string>`''`;
  const flags = delegators.map(
    (id) =>
      sql<string>`case when ${eb.exists(onPending(eb).where(sql`coalesce(r.for_user_id, r.reviewer_id)`, '=', id))} then '1' else '0' end`,
  );
  return sql<string>`(${sql.join(flags, sql` || `)})`;
}

function flag(e: Expression<SqlBool>) {
  return sql<number>`case when ${e} then 1 else 0 end`;
}

/**
 * Every pending action matching the filters, grouped by what the vote rules read (so counted without
 * reading them one by one): a handful of rows when thousands of actions share a few workflows. `id` is
 * one action of the group, whose workflow text workflowTexts reads.
 */
export async function pendingClasses(deps: Deps, f: InboxFilter, voters: Voters, now: number): Promise<PendingClass[]> {
  const flagged = pendingQuery(deps, f, now)
    .select((eb) => flag(votedBy(eb, voters.id)).as('voted'))
    .select((eb) => castFlags(eb, voters.delegators).as('cast'));
  const rows = await deps.db.read
    .selectFrom(flagged.as('p'))
    .select(['p.workflow_key', 'p.stage', 'p.escalations', 'p.agent_owner_id', 'p.on_behalf_of', 'p.past', 'p.voted', 'p.cast'])
    .select((eb) => [eb.fn.min('p.id').as('id'), eb.fn.max('p.expires_at').as('expires_at'), eb.fn.countAll().as('count')])
    .groupBy(['p.workflow_key', 'p.stage', 'p.escalations', 'p.agent_owner_id', 'p.on_behalf_of', 'p.past', 'p.voted', 'p.cast'])
    .execute();
  return rows.map((r) => ({ ...normalize(r), count: Number(r.count) }));
}

/**
 * The frozen workflow text of each key the rows carry, read from the rows themselves (one query, one row
 * per key); a key whose row can no longer be read so is read from any pending action with it.
 */
export async function workflowTexts(deps: Deps, rows: readonly PendingRow[]): Promise<Map<string, string>> {
  const byKey = new Map<string, string>();
  for (const r of rows) if (r.workflow_key !== null && !byKey.has(r.workflow_key)) byKey.set(r.workflow_key, r.id);
  const out = new Map<string, string>();
  if (byKey.size === 0) return out;
  const db = deps.db.read;
  const found = await db
    .selectFrom('actions')
    .select(['workflow_key', workflowText()])
    .where('id', 'in', [...byKey.values()])
    .execute();
  for (const f of found) if (f.workflow_key !== null && f.workflow !== null) out.set(f.workflow_key, f.workflow);
  for (const key of byKey.keys()) {
    if (out.has(key)) continue;
    const other = await db
      .selectFrom('actions')
      .select(workflowText())
      .where('status', '=', sql.lit('pending'))
      .where('workflow_key', '=', key)
      .limit(1)
      .executeTakeFirst();
    if (other?.workflow) out.set(key, other.workflow);
  }
  return out;
}

/** Where a walk in inbox order stands: among the actions with a deadline (after this one), or those without. */
export type Position = { deadline: true; expires_at: number; id: string } | { deadline: false; id: string } | null;

/**
 * The next `n` pending actions in inbox order (earliest deadline first, those without one last, then by
 * id) after `after`; each step reads the deadline index in order, never sorting every pending action.
 * Returns the rows and where the walk stands; an empty page means the end. The flags about votes come
 * from the reviews of the page's actions (one query by action id): asked in the page's query, PostgreSQL
 * answered "did I vote on it" by hashing every review the caller ever cast, for a page of 20.
 */
export async function pendingPage(
  deps: Deps,
  f: InboxFilter,
  voters: Voters,
  now: number,
  after: Position,
  n: number,
): Promise<{ rows: PendingRow[]; next: Position }> {
  const q = pendingQuery(deps, f, now);
  let at = after;
  if (at === null || at.deadline) {
    let d = q.where('a.expires_at', 'is not', null);
    if (at !== null) {
      const { expires_at, id } = at;
      d = d.where((eb) => eb(eb.refTuple('a.expires_at', 'a.id'), '>', eb.tuple(expires_at, id)));
    }
    const rows = await withVotes(deps, voters, await d.orderBy('a.expires_at').orderBy('a.id').limit(n).execute());
    const last = rows.at(-1);
    if (last) return { rows, next: { deadline: true, expires_at: last.expires_at as number, id: last.id } };
    at = { deadline: false, id: '' };
  }
  let u = q.where('a.expires_at', 'is', null);
  if (at.id !== '') u = u.where('a.id', '>', at.id);
  const rows = await withVotes(deps, voters, await u.orderBy('a.id').limit(n).execute());
  const last = rows.at(-1);
  return { rows, next: last ? { deadline: false, id: last.id } : at };
}

/** The rows with `voted` and `cast` as the flag subqueries of pendingClasses work them out, from their reviews. */
async function withVotes(deps: Deps, voters: Voters, raw: Omit<RawRow, 'voted' | 'cast'>[]): Promise<PendingRow[]> {
  if (raw.length === 0) return [];
  const reviews = await deps.db.read
    .selectFrom('reviews')
    .select(['action_id', 'reviewer_id', 'for_user_id'])
    .where(
      'action_id',
      'in',
      raw.map((r) => r.id),
    )
    .execute();
  const voted = new Set<string>();
  const cast = new Set<string>();
  for (const r of reviews) {
    if (r.reviewer_id === voters.id) voted.add(r.action_id);
    cast.add(`${r.action_id} ${r.for_user_id ?? r.reviewer_id}`);
  }
  return raw.map((r) =>
    normalize({
      ...r,
      voted: voted.has(r.id) ? 1 : 0,
      cast: voters.delegators.map((d) => (cast.has(`${r.id} ${d}`) ? '1' : '0')).join(''),
    }),
  );
}

interface RawRow {
  id: string;
  workflow_key: string | null;
  stage: number | null;
  escalations: number;
  agent_owner_id: string;
  on_behalf_of: string | null;
  expires_at: number | string | bigint | null;
  past: number | string;
  voted: number | string;
  cast: string;
}

/** Numbers as numbers (PostgreSQL may hand back aggregates and int8 as strings), flags as booleans. */
function normalize(r: RawRow): PendingRow {
  return {
    id: r.id,
    workflow_key: r.workflow_key,
    stage: r.stage === null ? null : Number(r.stage),
    escalations: Number(r.escalations),
    agent_owner_id: r.agent_owner_id,
    on_behalf_of: r.on_behalf_of,
    expires_at: r.expires_at === null ? null : Number(r.expires_at),
    past: Number(r.past) === 1,
    voted: Number(r.voted) === 1,
    cast: r.cast,
  };
}
