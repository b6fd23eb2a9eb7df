import { sql } from 'kysely';
import type { Deps } from '../../deps.js';
import { CsError } from '../../lib/errors.js';
import { isId } from '../../lib/ids.js';
import type { Principal } from '../identities/principal.js';
import type { ActionView } from './schemas.js';
import type { ActionStatus } from './status.js';
import { toActionView } from './view.js';

export { escapeLike } from './action-rows.js';

import { escapeLike, selectActionRows, workflowsNamed } from './action-rows.js';

export interface ListActionsFilter {
  status?: ActionStatus | undefined;
  agent?: string | undefined;
  tool?: string | undefined;
  sessionId?: string | undefined;
  /** The action with this id and every action below it in parent_id chains. */
  rootId?: string | undefined;
  /** A person (email or id) who decided, or a rule, grant or 'expiry' as decided_by_label names it. */
  decidedBy?: string | undefined;
  /** Created at or after (epoch ms). */
  from?: number | undefined;
  /** Created before (epoch ms). */
  to?: number | undefined;
  /** Text the purpose contains (ASCII case-insensitive; LIKE wildcards match themselves). */
  q?: string | undefined;
  /** The frozen workflow's name. */
  workflow?: string | undefined;
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
  if (f.from !== undefined && f.to !== undefined && f.from >= f.to) {
    throw new CsError('invalid_request', 'from must be before to', { issues: [{ path: 'from', message: 'after to' }] });
  }
  let q = selectActionRows(deps.db.read);
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
  if (f.decidedBy !== undefined) {
    const ids = await personIds(deps, f.decidedBy);
    const label = f.decidedBy;
    q = q.where((eb) => eb.or([eb('decided_by_label', '=', label), ...(ids.length ? [eb('decided_by_id', 'in', ids)] : [])]));
  }
  if (f.from !== undefined) q = q.where('created_at', '>=', f.from);
  if (f.to !== undefined) q = q.where('created_at', '<', f.to);
  if (f.q !== undefined) {
    // Both dialects: lower() on both sides (ASCII case-insensitive), and the text's own % _ and backslash escaped.
    q = q.where(sql<boolean>`lower(purpose) like ${`%${escapeLike(f.q.toLowerCase())}%`} escape '\\'`);
  }
  if (f.workflow !== undefined) {
    // A prefix match on each distinct frozen workflow text, once (action-rows.ts).
    q = q.where('workflow_digest', 'in', workflowsNamed(deps.db.read, f.workflow));
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

/** A person as the history filter names them: an id, or an email (any case). */
async function personIds(deps: Deps, who: string): Promise<string[]> {
  if (isId(who)) return [who];
  const users = await deps.db.read.selectFrom('users').select('id').where('email', '=', who.toLowerCase()).execute();
  return users.map((u) => u.id);
}
