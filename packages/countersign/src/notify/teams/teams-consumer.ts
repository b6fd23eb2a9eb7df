import type { Deps } from '../../deps.js';
import type { ConsumerDefinition, Delivery } from '../../events/consumers/types.js';
import { isCsError } from '../../lib/errors.js';
import { type DeliveryTarget, markFailed, markSent, reserveDelivery } from '../deliveries.js';
import { consoleUrlOf, type SafeSummary, summarize } from '../render/summary.js';
import { NOTIFY_EVENT_TYPES, type Occasion, occasionOf, targetsFor } from '../routing.js';
import { renderCard } from './card.js';
import { cardsOfAction } from './cards-store.js';
import { sendCard } from './send-card.js';
import { teamsAudience } from './targets.js';
import { updateCards } from './update-cards.js';

export const TEAMS_CONSUMER = 'teams';
export const TEAMS_CHANNEL = 'teams';

/**
 * The Teams channel: a durable consumer (one node at a time, in order, retried, dead-lettered) beside the
 * email one, reading the same routes. On an `asked` moment it posts a card to each Teams target (linked
 * approvers in a personal chat, channels, notify-only webhooks); on a decision from any channel it updates
 * every card posted about the action (no buttons, the outcome, who decided, the reason) and tells the
 * webhooks whose routes ask for decisions. Every send and update is a delivery record keyed by the event
 * and the recipient, so a redelivered event never posts twice; any failure makes the handler throw after
 * the others were tried, so the event is retried and in the end dead-lettered (an admin replays it).
 */
export function teamsConsumer(deps: Deps): ConsumerDefinition {
  return {
    name: TEAMS_CONSUMER,
    types: NOTIFY_EVENT_TYPES,
    async handle(delivery) {
      const occasion = occasionOf(delivery.event);
      if (!occasion) return;
      const errors = occasion.moment === 'asked' ? await asked(deps, delivery, occasion) : await decided(deps, delivery, occasion);
      if (errors.length > 0) throw new Error(`${errors.length} Teams notifications failed: ${errors.join('; ')}`);
    },
  };
}

function summaryOf(deps: Deps, occasion: NonNullable<Occasion>): SafeSummary {
  return summarize(occasion.action, consoleUrlOf(deps.config.server.publicUrl ?? '', occasion.action.id));
}

function routed(deps: Deps, occasion: NonNullable<Occasion>) {
  const stage = occasion.moment === 'asked' ? occasion.asked.stage.name : (occasion.action.workflow?.stage.name ?? null);
  return targetsFor(deps.config.notifications.routes, occasion.moment, occasion.action, stage);
}

async function asked(deps: Deps, d: Delivery, occasion: NonNullable<Occasion>): Promise<string[]> {
  const audience = await teamsAudience(deps, occasion, routed(deps, occasion));
  const summary = summaryOf(deps, occasion);
  const errors: string[] = [];
  for (const r of audience.recipients) {
    const target = { channel: TEAMS_CHANNEL, recipient: r.key, userId: r.kind === 'person' ? r.userId : null };
    const error = await once(deps, d, target, (deliveryId) =>
      sendCard(deps, deps.teams, r, { id: deliveryId, actionId: occasion.action.id }, audience.approverAads, (userIds) =>
        renderCard(summary, r.kind === 'webhook' ? { kind: 'notify' } : { kind: 'posted', userIds }),
      ),
    );
    if (error !== null) errors.push(`${r.key}: ${error}`);
  }
  return errors;
}

async function decided(deps: Deps, d: Delivery, occasion: NonNullable<Occasion>): Promise<string[]> {
  const summary = summaryOf(deps, occasion);
  const final = renderCard(summary, { kind: 'final' });
  const errors: string[] = [];
  // Every card about the action, whichever route posted it: one delivery per recipient covers their cards.
  const cards = deps.teams ? await cardsOfAction(deps, occasion.action.id) : [];
  const byRecipient = new Map<string, typeof cards>();
  for (const c of cards) byRecipient.set(c.recipient, [...(byRecipient.get(c.recipient) ?? []), c]);
  for (const [recipient, theirs] of byRecipient) {
    const target = { channel: TEAMS_CHANNEL, recipient, userId: null };
    const error = await once(deps, d, target, async () => {
      await updateCards(deps, theirs, final);
      return theirs.map((c) => c.activity_id).join(' ');
    });
    if (error !== null) errors.push(`${recipient}: ${error}`);
  }
  // Webhooks cannot be updated: the routes that ask for decisions get a second card saying how it ended.
  const audience = await teamsAudience(deps, occasion, routed(deps, occasion));
  for (const r of audience.recipients) {
    if (r.kind !== 'webhook') continue;
    const target = { channel: TEAMS_CHANNEL, recipient: r.key, userId: null };
    const error = await once(deps, d, target, (deliveryId) =>
      sendCard(deps, deps.teams, r, { id: deliveryId, actionId: occasion.action.id }, [], () => final),
    );
    if (error !== null) errors.push(`${r.key}: ${error}`);
  }
  return errors;
}

/** Reserve (skip what was sent before), do, record. Returns the error, or null when done or skipped. */
async function once(
  deps: Deps,
  d: Delivery,
  target: DeliveryTarget,
  send: (deliveryId: string) => Promise<string | null>,
): Promise<string | null> {
  const actionId = d.event.actionId;
  let reserved: Awaited<ReturnType<typeof reserveDelivery<null>>>;
  try {
    reserved = await reserveDelivery(deps, d.idempotencyKey, d.event, target, async () => null);
  } catch (e) {
    // Being sent by another attempt: this event is retried, the other recipients go ahead now.
    if (isCsError(e) && e.code === 'conflict') return e.message;
    throw e;
  }
  if (!reserved.send) return null;
  try {
    const ref = await send(reserved.id);
    await markSent(deps, reserved.id, actionId, ref);
    deps.metrics.notificationsSent.inc({ channel: TEAMS_CHANNEL });
    if (d.attempt > 1) deps.metrics.notificationsRetried.inc({ channel: TEAMS_CHANNEL });
    deps.metrics.notificationLatency.observe({ channel: TEAMS_CHANNEL }, Math.max(0, deps.clock.now() - d.event.ts) / 1000);
    return null;
  } catch (e) {
    const dead = d.attempt >= deps.config.events.consumerMaxAttempts;
    const error = e instanceof Error ? e.message : String(e);
    await markFailed(deps, reserved.id, actionId, error, dead);
    deps.metrics.notificationsFailed.inc({ channel: TEAMS_CHANNEL, status: dead ? 'dead' : 'failed' });
    return error;
  }
}
