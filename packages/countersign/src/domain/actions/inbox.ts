import type { ActionsTable, ReviewsTable } from '../../db/types.js';
import type { Deps } from '../../deps.js';
import { CsError } from '../../lib/errors.js';
import { isId } from '../../lib/ids.js';
import type { UserPrincipal } from '../identities/principal.js';
import { selectActionRows, workflowText } from './action-rows.js';
import { decidability } from './decidability.js';
import { type DelegatedDecidability, withDelegations } from './delegated-decidability.js';
import { inboxClassifier } from './inbox-classify.js';
import { type PendingRow, type Position, pendingClasses, pendingPage, workflowTexts } from './inbox-rows.js';
import type { ActionSummary, Inbox, InboxEntry, InboxItem } from './inbox-schemas.js';
import type { ActionView } from './schemas.js';
import { toActionView } from './view.js';

export interface InboxFilter {
  agent?: string | undefined;
  tool?: string | undefined;
  /** The workflow's name, as frozen on the action. */
  workflow?: string | undefined;
  /** Only actions proposed at least this many ms ago. */
  olderThanMs?: number | undefined;
  limit?: number | undefined;
}

export const MAX_INBOX_ITEMS = 200;
const CLASSIFY_COLUMNS = ['id', 'status', 'stage', 'escalations', 'agent_owner_id', 'on_behalf_of', 'expires_at'] as const;

/**
 * A person's inbox: the pending actions they may decide now, then those that wait on others, each group
 * by deadline (earliest first, actions without one last). The counts are exact without reading every
 * pending action: the database groups them by what the vote rules read (inbox-rows.ts), and each group is
 * classified once (inbox-classify.ts). The items are found by walking the pending actions in inbox order,
 * a page at a time, until the page is full; only its items are read whole.
 */
export async function inbox(deps: Deps, principal: UserPrincipal, f: InboxFilter): Promise<Inbox> {
  const limit = f.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_INBOX_ITEMS) {
    throw new CsError('invalid_request', `limit must be between 1 and ${MAX_INBOX_ITEMS}`, {
      issues: [{ path: 'limit', message: 'out of range' }],
    });
  }
  const now = deps.clock.now();
  const classifier = await inboxClassifier(deps, principal, now);
  // The workflow is frozen on the action as JSON, and the rows carry its key: each key's text is read once,
  // and its name (for the filter) parsed once.
  const texts = new Map<string, { text: string | null; name: string | null }>();
  const learn = async (rows: readonly PendingRow[]) => {
    const unknown = rows.filter((r) => r.workflow_key !== null && !texts.has(r.workflow_key));
    if (unknown.length === 0) return;
    const found = await workflowTexts(deps, unknown);
    for (const r of unknown) {
      const key = r.workflow_key as string;
      const text = found.get(key) ?? null;
      texts.set(key, { text, name: text === null ? null : workflowName(text) });
    }
  };
  const workflowOf = (row: PendingRow) => (row.workflow_key === null ? undefined : texts.get(row.workflow_key));
  const inWorkflow = (row: PendingRow) => f.workflow === undefined || workflowOf(row)?.name === f.workflow;
  let needYou = 0;
  let waiting = 0;
  const classes = await pendingClasses(deps, f, classifier.voters, now);
  await learn(classes);
  for (const c of classes) {
    if (!inWorkflow(c)) continue;
    // Actions I may decide only for someone whose vote I hold are among those I can decide, marked for whom.
    if ((await classifier.classify(c, workflowOf(c)?.text ?? null)).can_decide) needYou += c.count;
    else waiting += c.count;
  }
  const wantMine = Math.min(needYou, limit);
  const wantOthers = Math.min(waiting, limit - wantMine);
  const mine: Classified[] = [];
  const others: Classified[] = [];
  let at: Position = null;
  let chunk = limit + 20;
  while (mine.length < wantMine || others.length < wantOthers) {
    const { rows, next } = await pendingPage(deps, f, classifier.voters, now, at, chunk);
    if (rows.length === 0) break;
    await learn(rows);
    for (const row of rows) {
      if (!inWorkflow(row)) continue;
      const d = await classifier.classify(row, workflowOf(row)?.text ?? null);
      const group = d.can_decide ? mine : others;
      if (group.length < limit) group.push({ row, d });
    }
    at = next;
    chunk = Math.min(chunk * 4, 2000);
  }
  const page = [...mine, ...others].slice(0, limit);
  const items = await loadItems(
    deps,
    page.map((p) => p.row.id),
  );
  return {
    need_you: needYou,
    waiting_on_others: waiting,
    items: page.flatMap(({ row, d }) => {
      const loaded = items.get(row.id);
      // Decided between the two reads: no longer pending, so no longer in the inbox.
      if (loaded?.action.status !== 'pending') return [];
      const entry: InboxEntry = { action: summarize(loaded.action), owner: loaded.owner, ...d };
      return [entry];
    }),
  };
}

interface Classified {
  row: PendingRow;
  d: DelegatedDecidability;
}

/** One action as a person sees it in the console: the action, its agent's owner, and whether they may vote now. */
export async function inboxItem(deps: Deps, principal: UserPrincipal, id: string): Promise<InboxItem> {
  const loaded = isId(id) ? (await loadItems(deps, [id])).get(id) : undefined;
  if (!loaded) throw new CsError('not_found', `no action with id ${id}`);
  const row = await deps.db.read
    .selectFrom('actions')
    .select([...CLASSIFY_COLUMNS, workflowText()])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  const voted = loaded.action.reviews.some((r) => r.reviewer.id === principal.id);
  const now = deps.clock.now();
  const [d] = await withDelegations(deps, principal, [{ row, voted, d: decidability(principal, row, voted, now) }], now);
  return { ...loaded, ...(d as DelegatedDecidability) };
}

function workflowName(frozen: string): string | null {
  try {
    const name = (JSON.parse(frozen) as { name?: unknown } | null)?.name;
    return typeof name === 'string' ? name : null;
  } catch {
    return null;
  }
}

/** The action without its payloads (see ActionSummary). */
function summarize(a: ActionView): ActionSummary {
  const { arguments: args, original_arguments, annotations, metadata, receipt, reviews, result, redeemed, ...rest } = a;
  return { ...rest, arguments_bytes: Buffer.byteLength(JSON.stringify(args)) };
}

async function loadItems(deps: Deps, ids: string[]): Promise<Map<string, Omit<InboxItem, 'can_decide' | 'why_not' | 'may_vote_for'>>> {
  const out = new Map<string, Omit<InboxItem, 'can_decide' | 'why_not' | 'may_vote_for'>>();
  if (ids.length === 0) return out;
  const db = deps.db.read;
  const rows: ActionsTable[] = await selectActionRows(db).where('id', 'in', ids).execute();
  if (rows.length === 0) return out;
  const reviews: ReviewsTable[] = await db
    .selectFrom('reviews')
    .selectAll()
    .where('action_id', 'in', ids)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  const ownerIds = [...new Set(rows.map((r) => r.agent_owner_id))];
  const owners = new Map(
    (await db.selectFrom('users').select(['id', 'email']).where('id', 'in', ownerIds).execute()).map((u) => [u.id, u] as const),
  );
  for (const row of rows) {
    out.set(row.id, {
      action: toActionView(
        row,
        reviews.filter((r) => r.action_id === row.id),
      ),
      owner: owners.get(row.agent_owner_id) ?? null,
    });
  }
  return out;
}
