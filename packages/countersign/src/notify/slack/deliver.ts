import type { Deps } from '../../deps.js';
import type { Delivery } from '../../events/consumers/types.js';
import { deliverRound, type RoundItem, type Sent } from '../deliver-round.js';
import { type DeliveryError, deliveryError } from '../delivery-errors.js';
import { describeSlackError, slackRetryAfterMs } from './client.js';

export const CHANNEL = 'slack';
/** Message sequences of one event sent at once (each a Web API call or two). */
const PARALLEL_CALLS = 8;

export type { Sent };

/** One Slack call of an event: its delivery record's recipient (the person it is for, if any) and the call. */
export function slackItem(recipient: string, userId: string | null, call: (deliveryId: string) => Promise<Sent>): RoundItem {
  return { target: { channel: CHANNEL, recipient, userId }, call };
}

/**
 * Every Slack call one event owes, each at most once (deliver-round.ts: reserved together, made, settled
 * together): a redelivered event finds what was sent and calls only the rest. A failure is `failed`
 * (retried with the event) or, on the consumer's last attempt, `dead`; the errors come back in words, with
 * Slack's Retry-After on a 429.
 */
export function slackRound(
  deps: Deps,
  d: Delivery,
  actionId: string,
  sequences: readonly (readonly RoundItem[])[],
): Promise<DeliveryError[]> {
  return deliverRound(deps, d, actionId, sequences, {
    channel: CHANNEL,
    parallel: PARALLEL_CALLS,
    explain: (e) => deliveryError(describeSlackError(e), slackRetryAfterMs(e)),
  });
}
