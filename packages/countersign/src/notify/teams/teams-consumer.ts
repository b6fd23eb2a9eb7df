import type { Deps } from '../../deps.js';
import type { ConsumerDefinition, Delivery } from '../../events/consumers/types.js';
import { isCsError } from '../../lib/errors.js';
import { type DeliveryTarget, markFailed, markSent, reserveDelivery } from '../deliveries.js';
import { about, type DeliveryError, deliveryError, failedSends } from '../delivery-errors.js';
import { consoleUrlOf, type SafeSummary, summarize } from '../render/summary.js';
import { CHANNEL_CONCURRENCY, NOTIFY_EVENT_TYPES, type Occasion, occasionOf, targetsFor } from '../routing.js';
import { renderCard } from './card.js';
import { cardsOfAction } from './cards-store.js';
import { TeamsCallFailed } from './http-call.js';
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
    concurrency: CHANNEL_CONCURRENCY,
    async handle(delivery) {
      const occasion = occasionOf(delivery.event);
      if (!occasion) return;
      const errors = occasion.moment === 'asked' ? await asked(deps, delivery, occasion) : await decided(deps, delivery, occasion);
      if (errors.length > 0) throw failedSends('Teams notifications', errors);
    },
  };
}

function summaryOf(deps: Deps, occasion: NonNullable<Occasion>): SafeSummary {
  return summarize(occasion.action, consoleUrlOf(deps.config.server.publicUrl ?? '', occasion.action.id));
}

function routed(deps: Deps, occasion: NonNullable<Occasion>) {
  const stage = occasion.moment === 'asked' ? occasion.asked.stage.name : (occasion.action.workflow?.stage.name ?? null);
  return targetsFor(deps.policy.current.routes, occasion.moment, occasion.action, stage);
}

async function asked(deps: Deps, d: Delivery, occasion: NonNullable<Occasion>): Promise<DeliveryError[]> {
  const audience = await teamsAudience(deps, occasion, routed(deps, occasion));
  const summary = summaryOf(deps, occasion);
  const reminder = occasion.moment === 'asked' && occasion.asked.reason === 'reminder';
  const note = reminder ? REMINDER_NOTE : undefined;
  return inPool(audience.recipients, async (r) => {
    const target = { channel: TEAMS_CHANNEL, recipient: r.key, userId: r.kind === 'person' ? r.userId : null };
    const error = await once(deps, d, target, (deliveryId) =>
      sendCard(
        deps,
        deps.teams,
        r,
        { id: deliveryId, actionId: occasion.action.id },
        audience.approverAads,
        (userIds) =>
          renderCard(summary, r.kind === 'webhook' ? { kind: 'notify' } : { kind: 'posted', userIds, ...(note ? { note } : {}) }),
        reminder,
      ),
    );
    return about(r.key, error);
  });
}

/** What a reminder adds to the card it updates. */
export const REMINDER_NOTE = 'Reminder: this action is still waiting for a decision.';

/** How many recipients of one event are sent to at once: their commits share group-commit batches, and Teams is not flooded. */
const PARALLEL_SENDS = 8;

/** Runs `fn` over the items, at most PARALLEL_SENDS at a time; the errors it returned, in item order. */
async function inPool<T>(items: readonly T[], fn: (item: T) => Promise<DeliveryError | null>): Promise<DeliveryError[]> {
  const out: (DeliveryError | null)[] = new Array(items.length).fill(null);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i] as T);
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_SENDS, items.length) }, worker));
  return out.filter((e): e is DeliveryError => e !== null);
}

async function decided(deps: Deps, d: Delivery, occasion: NonNullable<Occasion>): Promise<DeliveryError[]> {
  const summary = summaryOf(deps, occasion);
  const final = renderCard(summary, { kind: 'final' });
  // Every card about the action, whichever route posted it: one delivery per recipient covers their cards.
  const cards = deps.teams ? await cardsOfAction(deps, occasion.action.id) : [];
  const byRecipient = new Map<string, typeof cards>();
  for (const c of cards) byRecipient.set(c.recipient, [...(byRecipient.get(c.recipient) ?? []), c]);
  // Webhooks cannot be updated: the routes that ask for decisions get a second card saying how it ended.
  const audience = await teamsAudience(deps, occasion, routed(deps, occasion));
  const webhooks = audience.recipients.filter((r) => r.kind === 'webhook');
  type Job = { recipient: string; run: (deliveryId: string) => Promise<string | null> };
  const jobs: Job[] = [
    ...[...byRecipient].map(([recipient, theirs]) => ({
      recipient,
      run: async () => {
        await updateCards(deps, theirs, final);
        return theirs.map((c) => c.activity_id).join(' ');
      },
    })),
    ...webhooks.map((r) => ({
      recipient: r.key,
      run: (deliveryId: string) => sendCard(deps, deps.teams, r, { id: deliveryId, actionId: occasion.action.id }, [], () => final),
    })),
  ];
  return inPool(jobs, async (job) => {
    const error = await once(deps, d, { channel: TEAMS_CHANNEL, recipient: job.recipient, userId: null }, job.run);
    return about(job.recipient, error);
  });
}

/** Reserve (skip what was sent before), do, record. Returns the error, or null when done or skipped. */
async function once(
  deps: Deps,
  d: Delivery,
  target: DeliveryTarget,
  send: (deliveryId: string) => Promise<string | null>,
): Promise<DeliveryError | null> {
  const actionId = d.event.actionId;
  let reserved: Awaited<ReturnType<typeof reserveDelivery<null>>>;
  try {
    reserved = await reserveDelivery(deps, d.idempotencyKey, d.event, target, async () => null);
  } catch (e) {
    // Being sent by another attempt: this event is retried, the other recipients go ahead now.
    if (isCsError(e) && e.code === 'conflict') return deliveryError(e.message);
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
    return deliveryError(error, e instanceof TeamsCallFailed ? e.retryAfterMs : null);
  }
}
