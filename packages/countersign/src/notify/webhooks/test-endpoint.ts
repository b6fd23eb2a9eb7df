import type { Actor } from '../../db/committer.js';
import type { Deps } from '../../deps.js';
import type { Principal } from '../../domain/identities/principal.js';
import { CsError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { webhookAdmin } from './admin-access.js';
import { findEndpoint } from './endpoint-row.js';
import type { DeliveryView } from './schemas.js';
import { DEFAULT_SEND, type SendOptions, sendToEndpoint } from './send.js';

/** The type of the message `POST /v1/admin/webhooks/{id}/test` sends (not an outbox event). */
export const TEST_MESSAGE_TYPE = 'webhook.test';

/**
 * Sends one signed `webhook.test` message now, through the same guard and signing as every delivery,
 * and answers with its log entry (status, duration, error): how an admin checks a receiver's setup.
 * Not retried. Audited, since an admin made the gateway call out.
 */
export async function testWebhook(
  deps: Deps,
  caller: Principal | Actor,
  id: string,
  opts: SendOptions = DEFAULT_SEND,
): Promise<DeliveryView> {
  const { actor, label } = webhookAdmin(caller);
  const row = await findEndpoint(deps.db.read, id);
  if (row.disabled_at !== null) throw new CsError('conflict', `webhook ${row.id} is disabled; enable it first`);
  const now = deps.clock.now();
  const { delivery } = await sendToEndpoint(
    deps,
    row,
    {
      webhookId: `webhook-test-${newId()}`,
      type: TEST_MESSAGE_TYPE,
      timestamp: new Date(now).toISOString(),
      data: { endpoint_id: row.id, requested_by: label },
      seq: null,
      attempt: 1,
    },
    opts,
  );
  await deps.committer.run(async (tx) => {
    tx.audit({
      actor,
      event: 'webhook.tested',
      data: { endpoint_id: row.id, delivery_id: delivery.id, ok: delivery.ok, status_code: delivery.status_code, error: delivery.error },
    });
  });
  return delivery;
}
