import type { Deps } from '../../deps.js';
import { CsError } from '../../lib/errors.js';
import { isId } from '../../lib/ids.js';
import type { Principal } from '../identities/principal.js';
import { type AuditEntryView, toAuditEntryView } from './schemas.js';

export interface ListAuditFilter {
  action?: string | undefined;
  actor?: string | undefined;
  event?: string | undefined;
  cursor?: string | undefined;
  limit?: number | undefined;
}

export const MAX_AUDIT_PAGE = 1000;

/**
 * Reads the log in sequence order, for people only: entries name every
 * identity and argument, which agents have no business reading. Paged by seq,
 * which only grows, so a cursor stays valid however much is appended.
 */
export async function listAudit(
  deps: Deps,
  principal: Principal,
  f: ListAuditFilter,
): Promise<{ items: AuditEntryView[]; next_cursor: string | null }> {
  if (principal.type !== 'user') throw new CsError('forbidden', 'the audit log is for people; agents cannot read it');
  const limit = f.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_AUDIT_PAGE) {
    throw new CsError('invalid_request', `limit must be between 1 and ${MAX_AUDIT_PAGE}`, {
      issues: [{ path: 'limit', message: 'out of range' }],
    });
  }
  const db = deps.db.read;
  let q = db.selectFrom('audit_log').selectAll();
  if (f.action !== undefined) q = q.where('action_id', '=', f.action);
  if (f.actor !== undefined) q = q.where('actor_id', 'in', await actorIds(deps, f.actor));
  if (f.event !== undefined) q = q.where('event', '=', f.event);
  if (f.cursor !== undefined) q = q.where('seq', '>', Number(f.cursor));
  const rows = await q
    .orderBy('seq')
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { items: page.map(toAuditEntryView), next_cursor: rows.length > limit && last ? String(last.seq) : null };
}

/** An actor as people know it (an email, an agent's name) or as the log stores it (an id, "cli:alice"). */
async function actorIds(deps: Deps, actor: string): Promise<string[]> {
  if (isId(actor)) return [actor];
  const db = deps.db.read;
  const users = await db.selectFrom('users').select('id').where('email', '=', actor.toLowerCase()).execute();
  const agents = await db.selectFrom('agents').select('id').where('name', '=', actor).execute();
  return [actor, ...users.map((u) => u.id), ...agents.map((a) => a.id)];
}
