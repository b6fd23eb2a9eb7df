import type { Actor } from '../../db/committer.js';
import type { Deps } from '../../deps.js';
import type { Principal } from '../../domain/identities/principal.js';
import { CsError } from '../../lib/errors.js';
import { isId } from '../../lib/ids.js';
import { webhookAdmin } from './admin-access.js';
import { findEndpoint } from './endpoint-row.js';
import type { DeliveryView } from './schemas.js';
import { toDeliveryView } from './send.js';

export const MAX_DELIVERY_PAGE = 1000;

/** An endpoint's delivery log, newest first (one row per attempt), paged by id: `cursor` is the last id of the previous page. */
export async function listWebhookDeliveries(
  deps: Deps,
  caller: Principal | Actor,
  id: string,
  page: { cursor?: string | undefined; limit?: number | undefined } = {},
): Promise<{ items: DeliveryView[]; next_cursor: string | null }> {
  webhookAdmin(caller);
  const limit = page.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_DELIVERY_PAGE) {
    throw new CsError('invalid_request', `limit must be between 1 and ${MAX_DELIVERY_PAGE}`);
  }
  if (page.cursor !== undefined && !isId(page.cursor)) throw new CsError('invalid_request', 'cursor must be a delivery id');
  const endpoint = await findEndpoint(deps.db.read, id);
  let q = deps.db.read
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('endpoint_id', '=', endpoint.id)
    .orderBy('id', 'desc')
    .limit(limit + 1);
  if (page.cursor !== undefined) q = q.where('id', '<', page.cursor);
  const rows = await q.execute();
  const items = rows.slice(0, limit).map(toDeliveryView);
  return { items, next_cursor: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
}
