import type { Tx } from '../../db/committer.js';
import type { Deps } from '../../deps.js';
import type { Delivery } from '../../events/consumers/types.js';
import { isCsError } from '../../lib/errors.js';
import { markFailed, markSent, reserveDelivery } from '../deliveries.js';
import { type DeliveryError, deliveryError } from '../delivery-errors.js';
import { describeSlackError, slackRetryAfterMs } from './client.js';

export const CHANNEL = 'slack';

/** What one Web API call came to: the reference kept on the delivery, and what to record with it. */
export interface Sent {
  ref: string;
  record?: (tx: Tx, deliveryId: string) => Promise<void>;
}

/**
 * One Slack call for one event, at most once: the delivery is reserved first (a redelivered event finds
 * it sent and calls nothing), the call made, then marked sent together with what it produced (`record`,
 * in the same transaction). Returns null when done or done before, else the error (in words, and Slack's
 * Retry-After on a 429); a failure is `failed` (retried with the event) or, on the consumer's last
 * attempt, `dead`.
 */
export async function deliverOnce(
  deps: Deps,
  d: Delivery,
  target: { recipient: string; userId: string | null },
  actionId: string,
  call: () => Promise<Sent>,
): Promise<DeliveryError | null> {
  let reserved: Awaited<ReturnType<typeof reserveDelivery<null>>>;
  try {
    reserved = await reserveDelivery(
      deps,
      d.idempotencyKey,
      d.event,
      { channel: CHANNEL, recipient: target.recipient, userId: target.userId },
      async () => null,
    );
  } catch (e) {
    if (isCsError(e) && e.code === 'conflict') return deliveryError(e.message);
    throw e;
  }
  if (!reserved.send) return null;
  try {
    const sent = await call();
    const { record } = sent;
    await markSent(deps, reserved.id, actionId, sent.ref, record ? (tx) => record(tx, reserved.id) : undefined);
    deps.metrics.notificationsSent.inc({ channel: CHANNEL });
    if (d.attempt > 1) deps.metrics.notificationsRetried.inc({ channel: CHANNEL });
    deps.metrics.notificationLatency.observe({ channel: CHANNEL }, Math.max(0, deps.clock.now() - d.event.ts) / 1000);
    return null;
  } catch (e) {
    const dead = d.attempt >= deps.config.events.consumerMaxAttempts;
    const error = describeSlackError(e);
    await markFailed(deps, reserved.id, actionId, error, dead);
    deps.metrics.notificationsFailed.inc({ channel: CHANNEL, status: dead ? 'dead' : 'failed' });
    return deliveryError(error, slackRetryAfterMs(e));
  }
}
