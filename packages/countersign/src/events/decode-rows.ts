import type { Kysely } from 'kysely';
import type { ActionsTable, DB, EventsTable } from '../db/types.js';
import { selectActionRows } from '../domain/actions/action-rows.js';
import type { ActionView } from '../domain/actions/schemas.js';
import { toActionView, toReviewView } from '../domain/actions/view.js';
import { expandAction, SAME_AS_NEXT, STORED_ACTION, type StoredAction } from './stored-action.js';
import { EVENT, type EventType, isEventType, type StoredEvent } from './types.js';

/**
 * Stored rows as typed events, in their order; rows of a type this version does not know are dropped. An action
 * event stores only what may still change (events/stored-action.ts): the rest comes from the action's row, read
 * once per action for the whole page, so the event is the one that was emitted.
 */
export async function decodeRows(
  db: Kysely<DB>,
  rows: readonly EventsTable[],
  keep: (r: EventsTable) => boolean = () => true,
): Promise<StoredEvent[]> {
  // Only the kept rows are parsed; the others only if a kept one takes its action from them.
  const wanted: Parsed[] = [];
  for (const [i, r] of rows.entries()) {
    if (!isEventType(r.type) || !keep(r)) continue;
    const data = JSON.parse(r.data) as Record<string, unknown>;
    if (data[STORED_ACTION] === SAME_AS_NEXT) data[STORED_ACTION] = await nextStoredAction(db, rows, i);
    wanted.push({ r, type: r.type, data });
  }
  const ids = new Set<string>();
  const reviewed = new Set<string>();
  for (const { r, data } of wanted) {
    if (!(STORED_ACTION in data) || r.action_id === null) continue;
    ids.add(r.action_id);
    if ((data[STORED_ACTION] as StoredAction).reviews?.length) reviewed.add(r.action_id);
  }
  const current = ids.size === 0 ? EMPTY : await currentViews(db, [...ids], reviewed);
  return wanted.map(({ r, type, data }) => ({ ...scopeOf(r), type, data: payloadOf(r, type, data, current) }) as StoredEvent);
}

interface Parsed {
  r: EventsTable;
  type: EventType;
  data: Record<string, unknown>;
}

/**
 * The stored action of the event at `i`, stored as "the same as its action's next event" (the first events of one
 * commit that carry the same view: events/stored-action.ts): the next row of that action in the page, else in the
 * table. Retention deletes in seq order, so the later event outlives the one that refers to it.
 */
async function nextStoredAction(db: Kysely<DB>, rows: readonly EventsTable[], i: number): Promise<unknown> {
  const r = rows[i] as EventsTable;
  let after = Number(r.seq);
  for (let j = i + 1; ; j++) {
    let next: Pick<EventsTable, 'seq' | 'data'> | undefined = rows[j];
    if (next === undefined) {
      next = await db
        .selectFrom('events')
        .select(['seq', 'data'])
        .where('action_id', '=', r.action_id as string)
        .where('seq', '>', after)
        .orderBy('seq')
        .limit(1)
        .executeTakeFirst();
      if (!next) throw new Error(`event ${r.seq} refers to the next event of action ${r.action_id}, which is not in the events table`);
    } else if ((next as EventsTable).action_id !== r.action_id) continue;
    const stored = (JSON.parse(next.data) as Record<string, unknown>)[STORED_ACTION];
    if (stored !== SAME_AS_NEXT) return stored;
    after = Number(next.seq);
  }
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
    const rows: ActionsTable[] = await selectActionRows(db)
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
