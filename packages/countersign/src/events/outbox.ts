import type { Kysely } from 'kysely';
import type { ActionsTable, DB, EventsTable } from '../db/types.js';
import type { ActionView } from '../domain/actions/schemas.js';
import { toActionView, toReviewView } from '../domain/actions/view.js';
import type { Principal } from '../domain/identities/principal.js';
import { expandAction, STORED_ACTION, type StoredAction } from './stored-action.js';
import { EVENT, type EventType, isEventType, type StoredEvent } from './types.js';

/**
 * The outbox: the `events` table, written by the Committer in the same transaction as the state
 * change, numbered in commit order under the chain head lock, so a reader that has seen seq N has
 * seen everything before it. Every reader goes through here: SSE replay, long-poll, the cross-node
 * feed and durable consumers.
 */

/** Which events a reader follows; every part is optional and they combine. */
export interface OutboxFilter {
  actionId?: string;
  agentId?: string;
  sessionId?: string;
  /** An action and its descendants: how a top-level run follows its subagents' approvals. */
  rootId?: string;
}

/** Whether a reader may see an event (an agent sees only its own) and it passes the filter. */
export function visible(e: StoredEvent, principal: Principal, f: OutboxFilter): boolean {
  if (principal.type === 'agent' && e.agentId !== principal.id) return false;
  return matches(e, f);
}

export function matches(e: StoredEvent, f: OutboxFilter): boolean {
  if (f.actionId !== undefined && e.actionId !== f.actionId) return false;
  if (f.agentId !== undefined && e.agentId !== f.agentId) return false;
  if (f.sessionId !== undefined && e.sessionId !== f.sessionId) return false;
  if (f.rootId !== undefined && e.rootId !== f.rootId && e.actionId !== f.rootId) return false;
  return true;
}

/** Up to `limit` events after `after`, in order. Rows of a type this version does not know are skipped. */
export async function readAfter(db: Kysely<DB>, after: number, f: OutboxFilter = {}, limit = 500): Promise<StoredEvent[]> {
  let q = db.selectFrom('events').selectAll().where('seq', '>', after);
  if (f.actionId !== undefined) q = q.where('action_id', '=', f.actionId);
  if (f.agentId !== undefined) q = q.where('agent_id', '=', f.agentId);
  if (f.sessionId !== undefined) q = q.where('session_id', '=', f.sessionId);
  if (f.rootId !== undefined) {
    const root = f.rootId;
    q = q.where((eb) => eb.or([eb('root_id', '=', root), eb('action_id', '=', root)]));
  }
  return decodeRows(db, await q.orderBy('seq').limit(limit).execute());
}

/** Every event after `after`, a page at a time (a stream checks each page before it sends it). */
export async function* pagesAfter(db: Kysely<DB>, after: number, f: OutboxFilter = {}, pageSize = 500): AsyncGenerator<StoredEvent[]> {
  let cursor = after;
  for (;;) {
    const page = await readAfter(db, cursor, f, pageSize);
    if (page.length === 0) return;
    yield page;
    cursor = (page.at(-1) as StoredEvent).seq;
    if (page.length < pageSize) return;
  }
}

/** The last event committed (0 before the first). */
export async function headSeq(db: Kysely<DB>): Promise<number> {
  const head = await db.selectFrom('chain_head').select('event_seq').where('id', '=', 1).executeTakeFirstOrThrow();
  return Number(head.event_seq);
}

/**
 * The highest seq that may be gone (retention deletes old events): a reader resuming after an id
 * below this has missed events it can no longer get. 0 while nothing has been deleted.
 */
export async function floorSeq(db: Kysely<DB>): Promise<number> {
  const oldest = await db
    .selectFrom('events')
    .select((eb) => eb.fn.min('seq').as('min'))
    .executeTakeFirst();
  if (oldest?.min != null) return Number(oldest.min) - 1;
  return headSeq(db);
}

/**
 * Stored rows as typed events, in their order; rows of a type this version does not know are dropped. An action
 * event stores only what may still change (events/stored-action.ts): the rest comes from the action's row, read
 * once per action for the whole page, so the event is the one that was emitted.
 */
export async function decodeRows(db: Kysely<DB>, rows: readonly EventsTable[]): Promise<StoredEvent[]> {
  const parsed: { r: EventsTable; type: EventType; data: Record<string, unknown> }[] = [];
  const ids = new Set<string>();
  const reviewed = new Set<string>();
  for (const r of rows) {
    if (!isEventType(r.type)) continue;
    const data = JSON.parse(r.data) as Record<string, unknown>;
    if (STORED_ACTION in data && r.action_id !== null) {
      ids.add(r.action_id);
      if ((data[STORED_ACTION] as StoredAction).reviews?.length) reviewed.add(r.action_id);
    }
    parsed.push({ r, type: r.type, data });
  }
  const current = ids.size === 0 ? EMPTY : await currentViews(db, [...ids], reviewed);
  return parsed.map(({ r, type, data }) => ({ ...scopeOf(r), type, data: payloadOf(r, type, data, current) }) as StoredEvent);
}

type ReviewView = ActionView['reviews'][number];
interface Current {
  /** Each action's view now, from its row alone. */
  views: Map<string, ActionView>;
  /** The reviews of those actions that have any, by id. */
  reviews: Map<string, ReviewView>;
}
const EMPTY: Current = { views: new Map(), reviews: new Map() };

/** The actions' views now and, for those whose events list reviews, their reviews; 500 actions a query. */
async function currentViews(db: Kysely<DB>, ids: readonly string[], reviewed: ReadonlySet<string>): Promise<Current> {
  const out: Current = { views: new Map(), reviews: new Map() };
  for (let i = 0; i < ids.length; i += 500) {
    const rows: ActionsTable[] = await db
      .selectFrom('actions')
      .selectAll()
      .where('id', 'in', ids.slice(i, i + 500))
      .execute();
    for (const row of rows) out.views.set(row.id, toActionView(row, []));
  }
  const withReviews = [...reviewed];
  for (let i = 0; i < withReviews.length; i += 500) {
    const reviews = await db
      .selectFrom('reviews')
      .selectAll()
      .where('action_id', 'in', withReviews.slice(i, i + 500))
      .execute();
    for (const r of reviews) out.reviews.set(r.id, toReviewView(r));
  }
  return out;
}

function scopeOf(r: EventsTable) {
  return { seq: Number(r.seq), ts: Number(r.ts), actionId: r.action_id, agentId: r.agent_id, sessionId: r.session_id, rootId: r.root_id };
}

function payloadOf(r: EventsTable, type: EventType, data: Record<string, unknown>, current: Current): unknown {
  if (!(STORED_ACTION in data)) return upgrade(type, data);
  const { [STORED_ACTION]: stored, ...rest } = data;
  const now = r.action_id === null ? undefined : current.views.get(r.action_id);
  // Actions are never deleted, and an event is committed with its action: a miss is a damaged database.
  if (now === undefined) throw new Error(`event ${r.seq} (${type}) names action ${r.action_id}, which is not in the actions table`);
  return { action: expandAction(stored as StoredAction, now, current.reviews), ...rest };
}

/**
 * Rows written before the catalogue (0.1) stored the bare action view as the payload. They are read
 * as the catalogue's shape so no reader needs to know: deadlines from the view, and for events that
 * asked people, the stage's approvers in force.
 */
function upgrade(type: EventType, data: Record<string, unknown>): unknown {
  if (type === EVENT.policyActivated || 'action' in data) return data;
  const view = data as unknown as ActionView;
  const ms = (iso: string | null | undefined) => (iso ? Date.parse(iso) : null);
  const deadlines = {
    expires_at_ms: ms(view.expires_at),
    stage_timeout_at_ms: ms(view.workflow?.stage.timeout_at),
    execute_by_ms: ms(view.execute_by),
  };
  const stage = view.workflow?.stage;
  const asking = type === EVENT.actionEscalated || type === EVENT.actionReminder || type === EVENT.approvalRequired;
  const reason = type === EVENT.actionEscalated ? 'escalated' : type === EVENT.actionReminder ? 'reminder' : 'review_started';
  const asked =
    asking && stage
      ? { reason, stage: { index: stage.index, name: stage.name }, approvers: stage.approvers, level: null, round: null }
      : null;
  return type === EVENT.actionUpdated || asking ? { action: view, deadlines, asked } : { action: view, deadlines };
}
