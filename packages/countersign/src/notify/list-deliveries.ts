import type { Actor } from '../db/committer.js';
import type { NotificationDeliveriesTable } from '../db/types.js';
import type { Deps } from '../deps.js';
import type { Principal } from '../domain/identities/principal.js';
import { CsError } from '../lib/errors.js';
import type { DeliveryView } from './schemas.js';

export const MAX_DELIVERY_PAGE = 1000;

export interface ListDeliveriesFilter {
  action?: string | undefined;
  status?: DeliveryView['status'] | undefined;
  channel?: string | undefined;
  cursor?: string | undefined;
  limit?: number | undefined;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(Number(ms)).toISOString());

function toView(r: NotificationDeliveriesTable): DeliveryView {
  return {
    id: r.id,
    action_id: r.action_id,
    event_seq: Number(r.event_seq),
    event_type: r.event_type,
    channel: r.channel,
    recipient: r.recipient,
    status: r.status,
    attempts: Number(r.attempts),
    last_error: r.last_error,
    external_ref: r.external_ref,
    created_at: iso(r.created_at) ?? '',
    updated_at: iso(r.updated_at) ?? '',
    sent_at: iso(r.sent_at),
  };
}

/**
 * Notification delivery records, oldest first, paged by id (time-ordered). Admins only: they name who was
 * told about which action (over HTTP an admin person; on the CLI whoever can reach the database).
 */
export async function listDeliveries(
  deps: Deps,
  caller: Principal | Actor,
  f: ListDeliveriesFilter,
): Promise<{ items: DeliveryView[]; next_cursor: string | null }> {
  if ('credential' in caller && (caller.type !== 'user' || caller.role !== 'admin')) {
    throw new CsError('forbidden', 'only admins can list notification deliveries');
  }
  const limit = f.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_DELIVERY_PAGE) {
    throw new CsError('invalid_request', `limit must be between 1 and ${MAX_DELIVERY_PAGE}`, {
      issues: [{ path: 'limit', message: 'out of range' }],
    });
  }
  let q = deps.db.read.selectFrom('notification_deliveries').selectAll();
  if (f.action !== undefined) q = q.where('action_id', '=', f.action);
  if (f.status !== undefined) q = q.where('status', '=', f.status);
  if (f.channel !== undefined) q = q.where('channel', '=', f.channel);
  if (f.cursor !== undefined) q = q.where('id', '>', f.cursor);
  const rows = await q
    .orderBy('id')
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { items: page.map(toView), next_cursor: rows.length > limit && last ? last.id : null };
}
