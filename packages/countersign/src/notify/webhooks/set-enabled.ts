import type { Actor } from '../../db/committer.js';
import type { Deps } from '../../deps.js';
import type { Principal } from '../../domain/identities/principal.js';
import { parseInput } from '../../domain/validate.js';
import { CsError } from '../../lib/errors.js';
import { webhookAdmin } from './admin-access.js';
import { findEndpoint, toWebhookView } from './endpoint-row.js';
import { DisableWebhookBody, type WebhookView } from './schemas.js';

/** Stops deliveries to an endpoint (an admin, or the gateway when the receiver answers 410 Gone). */
export async function disableWebhook(deps: Deps, caller: Principal | Actor, id: string, input: unknown = {}): Promise<WebhookView> {
  const { actor } = webhookAdmin(caller);
  const reason = parseInput(DisableWebhookBody, input ?? {}).reason?.trim() || 'disabled by an admin';
  return setDisabled(deps, actor, id, reason);
}

/** What a receiver's 410 Gone does: it said the endpoint no longer exists, so the gateway stops (audited as the system). */
export async function disableGoneWebhook(deps: Deps, id: string): Promise<void> {
  try {
    await setDisabled(deps, { type: 'system', id: null }, id, 'the receiver answered 410 Gone');
  } catch (e) {
    // Disabled meanwhile (an admin, or another delivery's 410): it is off either way.
    if (!(e instanceof CsError) || e.code !== 'conflict') throw e;
  }
}

export async function enableWebhook(deps: Deps, caller: Principal | Actor, id: string): Promise<WebhookView> {
  const { actor } = webhookAdmin(caller);
  return deps.committer.run(async (tx) => {
    const row = await findEndpoint(tx.db, id);
    const res = await tx.db
      .updateTable('webhook_endpoints')
      .set({ disabled_at: null, disabled_reason: null, version: Number(row.version) + 1, updated_at: tx.now })
      .where('id', '=', row.id)
      .where('version', '=', row.version)
      .where('disabled_at', 'is not', null)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) throw new CsError('conflict', `webhook ${row.id} is already enabled (or changed meanwhile)`);
    tx.audit({ actor, event: 'webhook.enabled', data: { endpoint_id: row.id, url: row.url } });
    return toWebhookView(
      { ...row, disabled_at: null, disabled_reason: null, version: Number(row.version) + 1, updated_at: tx.now },
      tx.now,
    );
  });
}

/** Compare-and-set on the version and on being enabled: two disables at once are one change and a conflict. */
async function setDisabled(deps: Deps, actor: Actor, id: string, reason: string): Promise<WebhookView> {
  return deps.committer.run(async (tx) => {
    const row = await findEndpoint(tx.db, id);
    const res = await tx.db
      .updateTable('webhook_endpoints')
      .set({ disabled_at: tx.now, disabled_reason: reason, version: Number(row.version) + 1, updated_at: tx.now })
      .where('id', '=', row.id)
      .where('version', '=', row.version)
      .where('disabled_at', 'is', null)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) throw new CsError('conflict', `webhook ${row.id} is already disabled (or changed meanwhile)`);
    tx.audit({ actor, event: 'webhook.disabled', data: { endpoint_id: row.id, url: row.url, reason } });
    return toWebhookView(
      { ...row, disabled_at: tx.now, disabled_reason: reason, version: Number(row.version) + 1, updated_at: tx.now },
      tx.now,
    );
  });
}
