import type { Actor } from '../../db/committer.js';
import type { Deps } from '../../deps.js';
import type { Principal } from '../../domain/identities/principal.js';
import { webhookAdmin } from './admin-access.js';
import { toWebhookView } from './endpoint-row.js';
import type { WebhookView } from './schemas.js';

/** Every endpoint, oldest first, without secrets. */
export async function listWebhooks(deps: Deps, caller: Principal | Actor): Promise<WebhookView[]> {
  webhookAdmin(caller);
  const rows = await deps.db.read.selectFrom('webhook_endpoints').selectAll().orderBy('id').execute();
  const now = deps.clock.now();
  return rows.map((r) => toWebhookView(r, now));
}
