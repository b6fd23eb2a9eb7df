import type { Deps } from '../../deps.js';
import { RetryLater } from '../../events/consumers/retry-later.js';
import type { ConsumerDefinition } from '../../events/consumers/types.js';
import type { EventType, StoredEvent } from '../../events/types.js';
import { wireEvent } from '../../events/wire-event.js';
import { CHANNEL_CONCURRENCY } from '../routing.js';
import { consumerName, findEndpoint } from './endpoint-row.js';
import type { SendOptions } from './send.js';
import { sendToEndpoint } from './send.js';
import { disableGoneWebhook } from './set-enabled.js';

/**
 * The durable consumer that delivers to one endpoint. One consumer per endpoint rather than one for all:
 * a consumer runs its batch in order, so with one shared consumer an endpoint that times out would hold
 * up every other endpoint's deliveries, and its failures would retry (re-send) the event to the healthy
 * ones too. Per endpoint, each has its own cursor, retries, back-off and dead letters.
 *
 * The endpoint row is read on every delivery, so a disable, an enable or a rotation on any node applies
 * to the next message. While disabled, events pass by unsent (the endpoint asked for nothing while off).
 * 2xx delivers; 410 Gone disables the endpoint (audited) and stops; anything else, a timeout, a network
 * error or a refused destination throws (a 429 or 503 with Retry-After as a RetryLater, so the retry and
 * the endpoint's next send wait that long), so the consumer framework retries with back-off and
 * dead-letters after its attempts (an admin replays it).
 */
export function webhookConsumer(deps: Deps, endpointId: string, types: readonly EventType[], send: SendOptions): ConsumerDefinition {
  const name = consumerName(endpointId);
  return {
    name,
    ...(types.length > 0 ? { types } : {}),
    concurrency: CHANNEL_CONCURRENCY,
    async handle({ event, idempotencyKey, attempt }) {
      const row = await findEndpoint(deps.db.read, endpointId);
      if (row.disabled_at !== null) return;
      const { delivery, retryAfterMs } = await sendToEndpoint(
        deps,
        row,
        {
          webhookId: idempotencyKey,
          type: event.type,
          timestamp: new Date(event.ts).toISOString(),
          data: webhookData(event),
          seq: event.seq,
          attempt,
        },
        send,
      );
      if (delivery.ok) return;
      if (delivery.status_code === 410) {
        await disableGoneWebhook(deps, endpointId);
        return;
      }
      // A receiver that named its Retry-After is not sent this (or anything) again before then.
      const message = delivery.error ?? 'delivery failed';
      throw retryAfterMs === null ? new Error(message) : new RetryLater(message, retryAfterMs);
    },
  };
}

/** A webhook's `data`: the event as a stream reader gets it (events/wire-event.ts), its `type` at the body's top level. */
function webhookData(e: StoredEvent): Record<string, unknown> {
  const { type: _type, ...data } = wireEvent(e);
  return data;
}
