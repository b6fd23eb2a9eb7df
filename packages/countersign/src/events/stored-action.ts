import type { ActionView } from '../domain/actions/schemas.js';

/**
 * How an event's action is stored in the outbox: only the part of the view that can still change, because the
 * `actions` row (never deleted, unlike events) holds the rest for good. Stored events carried a full copy of the
 * action in each of the 2 to 5 events of its life, most of the outbox's size and about half of all storage per
 * action (bench/storage.ts); the arguments alone were copied into every one.
 *
 * What is left out, and why the row gives back exactly the value the event had:
 * - CONSTANT: written when the action is created and never updated (transition.ts's changes never name them).
 * - SET_ONCE: null until set, then never changed (a receipt is issued once, redeemed once, a result reported
 *   once; a decision is made once, leaving pending (an unredeemed approval's expiry changes only `reason`);
 *   arguments are edited at most once, before anyone approves (review-action.ts refuses an edit after an
 *   approval), so `original_arguments` is set once). Left out only when set; a null is kept.
 * - `reviews`: stored as the ids of the reviews the view had; review rows are never changed or deleted.
 * - `arguments` while not edited: they are the proposal, which the row keeps (`original_arguments` once edited,
 *   `arguments` before). Edited arguments are kept: a later stage may edit them again.
 * Everything else (status, version, workflow progress, reviews, decisions, times) is stored as it was.
 *
 * `expandAction` rebuilds the view with the keys in the order `toActionView` writes them, so the event a stream
 * reader gets is byte for byte the one emitted (test/event-storage.test.ts holds every path to that).
 */
const CONSTANT = [
  'id',
  'tool',
  'resource',
  'purpose',
  'on_behalf_of',
  'session_id',
  'parent_id',
  'root_id',
  'annotations',
  'metadata',
  'agent',
  'policy',
  'grant_id',
  'batch_id',
  'created_at',
  'expires_at',
] as const satisfies readonly (keyof ActionView)[];

const SET_ONCE = [
  'original_arguments',
  'decided_at',
  'decided_by',
  'receipt',
  'execute_by',
  'redeemed_at',
  'result',
] as const satisfies readonly (keyof ActionView)[];

const OMITTED: ReadonlySet<string> = new Set<string>(CONSTANT);
const UNLESS_NULL: ReadonlySet<string> = new Set<string>(SET_ONCE);

/** The payload key an outbox row stores the compact action under (rows written before this have `action`). */
export const STORED_ACTION = 'action_delta';

/**
 * Stored instead of the action when the action's next event, in the same commit, carries the same view (a new
 * action's `action.created` and its status event, and `action.redeemed` after them with `?redeem=true`).
 */
export const SAME_AS_NEXT = 'next';

type ReviewView = ActionView['reviews'][number];

/** The stored part of an action view: what may still change, as it was at the event; its reviews by id. */
export type StoredAction = Partial<Omit<ActionView, 'reviews'>> & { reviews?: string[] };

/** The view without what the action row holds for good. */
export function compactAction(view: ActionView): StoredAction {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(view)) {
    if (OMITTED.has(k)) continue;
    if (UNLESS_NULL.has(k) && v !== null) continue;
    if (k === 'arguments' && view.original_arguments === null) continue;
    out[k] = k === 'reviews' ? view.reviews.map((r) => r.id) : v;
  }
  return out as StoredAction;
}

/**
 * The view as it was at the event: the stored part over `current`, the action's view now (from its row, with no
 * reviews), and its reviews from `reviews` (by id). Keys come out in `current`'s order, then any the stored part
 * has beyond it.
 */
export function expandAction(stored: StoredAction, current: ActionView, reviews: ReadonlyMap<string, ReviewView>): ActionView {
  const s = stored as Record<string, unknown>;
  const c = current as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(c)) {
    if (k === 'reviews') out[k] = (stored.reviews ?? []).map((id) => reviewOf(reviews, id, current.id));
    else if (k in s) out[k] = s[k];
    else if (k === 'arguments') out[k] = current.original_arguments ?? current.arguments;
    else out[k] = c[k];
  }
  for (const k of Object.keys(s)) if (!(k in out)) out[k] = s[k];
  return out as unknown as ActionView;
}

function reviewOf(reviews: ReadonlyMap<string, ReviewView>, id: string, actionId: string): ReviewView {
  const r = reviews.get(id);
  // Reviews are never deleted, and an event is committed with the reviews it lists: a miss is a damaged database.
  if (r === undefined) throw new Error(`an event of action ${actionId} lists review ${id}, which is not in the reviews table`);
  return r;
}
