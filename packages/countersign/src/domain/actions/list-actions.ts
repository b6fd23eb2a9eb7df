import type { Deps } from '../../deps.js';
import { CsError } from '../../lib/errors.js';
import { isId } from '../../lib/ids.js';
import type { Principal } from '../identities/principal.js';
import type { ActionView } from './schemas.js';
import type { ActionStatus } from './status.js';
import { toActionView } from './view.js';

export interface ListActionsFilter {
  status?: ActionStatus | undefined;
  agent?: string | undefined;
  tool?: string | undefined;
  sessionId?: string | undefined;
  /** The action with this id and every action below it in parent_id chains. */
  rootId?: string | undefined;
  cursor?: string | undefined;
  limit?: number | undefined;
}

export const MAX_PAGE = 200;

/** Newest first, paged by id (ids are time-ordered, so the cursor is stable under inserts). */
export async function listActions(
  deps: Deps,
  principal: Principal,
  f: ListActionsFilter,
): Promise<{ items: ActionView[]; next_cursor: string | null }> {
  const limit = f.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    throw new CsError('invalid_request', `limit must be between 1 and ${MAX_PAGE}`, {
      issues: [{ path: 'limit', message: 'out of range' }],
    });
  }
  if (f.cursor !== undefined && !isId(f.cursor)) {
    throw new CsError('invalid_request', 'cursor is not valid; pass next_cursor from the previous page', {
      issues: [{ path: 'cursor', message: 'invalid' }],
    });
  }
  let q = deps.db.read.selectFrom('actions').selectAll();
  if (principal.type === 'agent') q = q.where('agent_id', '=', principal.id);
  if (f.agent !== undefined) {
    const agent = f.agent;
    q = isId(agent) ? q.where('agent_id', '=', agent) : q.where('agent_name', '=', agent);
  }
  if (f.status !== undefined) q = q.where('status', '=', f.status);
  if (f.tool !== undefined) q = q.where('tool', '=', f.tool);
  if (f.sessionId !== undefined) q = q.where('session_id', '=', f.sessionId);
  if (f.rootId !== undefined) {
    const root = f.rootId;
    q = q.where((eb) => eb.or([eb('root_id', '=', root), eb('id', '=', root)]));
  }
  if (f.cursor !== undefined) q = q.where('id', '<', f.cursor);
  const rows = await q
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit);
  const ids = page.map((r) => r.id);
  const reviews =
    ids.length === 0
      ? []
      : await deps.db.read.selectFrom('reviews').selectAll().where('action_id', 'in', ids).orderBy('created_at').orderBy('id').execute();
  const byAction = new Map<string, typeof reviews>();
  for (const r of reviews) {
    const list = byAction.get(r.action_id) ?? [];
    list.push(r);
    byAction.set(r.action_id, list);
  }
  return {
    items: page.map((r) => toActionView(r, byAction.get(r.id) ?? [])),
    next_cursor: rows.length > limit ? (page[page.length - 1]?.id ?? null) : null,
  };
}
