import type { Tx } from '../db/committer.js';
import type { Deps } from '../deps.js';
import type { Delivery } from '../events/consumers/types.js';
import { type DeliveryTarget, type Outcome, reserveDeliveries, settleDeliveries } from './deliveries.js';
import { about, type DeliveryError, deliveryError } from './delivery-errors.js';

/** What one platform call came to: the reference kept on the delivery, and what to record with it. */
export interface Sent {
  ref: string | null;
  record?: (tx: Tx, deliveryId: string) => Promise<void>;
}

/** One message of a round: where it goes (its delivery record) and the call that sends it. */
export interface RoundItem {
  target: DeliveryTarget;
  call: (deliveryId: string) => Promise<Sent>;
}

export interface RoundOptions {
  /** The channel, for metrics. */
  channel: string;
  /** A failed call in words (never the request, which may hold a token), with the platform's Retry-After. */
  explain: (e: unknown) => DeliveryError;
  /** Sequences run at once (a platform is not flooded). */
  parallel: number;
}

/**
 * Every message one event owes on one channel, each at most once: all of them reserved in one
 * transaction, the calls made (a sequence's calls one after another, e.g. a message's update and then its
 * thread reply; sequences side by side), then every outcome settled in one transaction (sent with what it
 * produced, or failed / dead on the consumer's last attempt). So an event costs two commits however many
 * messages it sends, where one reservation and one settlement per message cost two each: on a busy
 * gateway every commit waits its turn behind the others' group commits. A message sent before (a retry, a
 * redelivery) is skipped; one being sent by another attempt right now is an error, so the event is retried.
 * Returns the errors, each said about its recipient.
 */
export async function deliverRound(
  deps: Deps,
  d: Delivery,
  actionId: string | null,
  sequences: readonly (readonly RoundItem[])[],
  opts: RoundOptions,
): Promise<DeliveryError[]> {
  const items = sequences.flat();
  const reserved = await reserveDeliveries(
    deps,
    d.idempotencyKey,
    d.event,
    items.map((i) => i.target),
  );
  const reservationOf = new Map(items.map((item, i) => [item, reserved[i]]));
  const errors: DeliveryError[] = [];
  const outcomes: Outcome[] = [];
  const dead = d.attempt >= deps.config.events.consumerMaxAttempts;
  const runSequence = async (seq: readonly RoundItem[]) => {
    for (const item of seq) {
      const r = reservationOf.get(item);
      if (r === undefined) continue;
      if ('busy' in r) {
        errors.push(about(item.target.recipient, deliveryError(r.busy)));
        continue;
      }
      if (!r.send) continue;
      try {
        const sent = await item.call(r.id);
        const { record } = sent;
        outcomes.push({ id: r.id, sent: true, ref: sent.ref, ...(record ? { record: (tx: Tx) => record(tx, r.id) } : {}) });
      } catch (e) {
        const error = opts.explain(e);
        outcomes.push({ id: r.id, sent: false, error: error.message, dead });
        errors.push(about(item.target.recipient, error));
      }
    }
  };
  const queue = [...sequences];
  await Promise.all(
    Array.from({ length: Math.min(opts.parallel, queue.length) }, async () => {
      for (let s = queue.shift(); s !== undefined; s = queue.shift()) await runSequence(s);
    }),
  );
  await settleDeliveries(deps, actionId, outcomes);
  count(deps, d, opts.channel, outcomes);
  return errors;
}

function count(deps: Deps, d: Delivery, channel: string, outcomes: readonly Outcome[]): void {
  const m = deps.metrics;
  const latency = Math.max(0, deps.clock.now() - d.event.ts) / 1000;
  for (const o of outcomes) {
    if (o.sent) {
      m.notificationsSent.inc({ channel });
      if (d.attempt > 1) m.notificationsRetried.inc({ channel });
      m.notificationLatency.observe({ channel }, latency);
    } else {
      m.notificationsFailed.inc({ channel, status: o.dead ? 'dead' : 'failed' });
    }
  }
}
