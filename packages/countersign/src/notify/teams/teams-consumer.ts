import type { Deps } from '../../deps.js';
import type { ConsumerDefinition, Delivery } from '../../events/consumers/types.js';
import { deliverRound, type RoundItem } from '../deliver-round.js';
import { type DeliveryError, deliveryError, failedSends } from '../delivery-errors.js';
import { nudgeWords } from '../render/nudge-words.js';
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
  const reason = occasion.moment === 'asked' ? occasion.asked.reason : null;
  const nudging = reason === 'reminder' || reason === 'escalated';
  const note = reason === 'reminder' ? REMINDER_NOTE : undefined;
  const deadline = occasion.action.workflow?.stage.timeout_at ?? occasion.action.expires_at;
  const words = nudging ? nudgeWords(reason, occasion.moment === 'asked' ? occasion.asked.level : null, deadline) : '';
  return teamsRound(
    deps,
    d,
    audience.recipients.map((r) => ({
      target: { channel: TEAMS_CHANNEL, recipient: r.key, userId: r.kind === 'person' ? r.userId : null },
      call: async (deliveryId) => ({
        ref: await sendCard(
          deps,
          deps.teams,
          r,
          { id: deliveryId, actionId: occasion.action.id },
          audience.approverAads,
          (userIds) =>
            renderCard(summary, r.kind === 'webhook' ? { kind: 'notify' } : { kind: 'posted', userIds, ...(note ? { note } : {}) }),
          nudging ? { words, mentions: r.kind === 'person' ? [{ aad: r.aad, name: r.key }] : audience.approverPeople } : undefined,
        ),
      }),
    })),
  );
}

/** What a reminder adds to the card it updates. */
export const REMINDER_NOTE = 'Reminder: this action is still waiting for a decision.';

/** How many recipients of one event are sent to at once: Teams is not flooded. */
const PARALLEL_SENDS = 8;

/** Every Teams send of one event, each its own delivery, reserved and settled together (deliver-round.ts). */
function teamsRound(deps: Deps, d: Delivery, items: RoundItem[]): Promise<DeliveryError[]> {
  return deliverRound(
    deps,
    d,
    d.event.actionId,
    items.map((i) => [i]),
    {
      channel: TEAMS_CHANNEL,
      parallel: PARALLEL_SENDS,
      explain: (e) => deliveryError(e instanceof Error ? e.message : String(e), e instanceof TeamsCallFailed ? e.retryAfterMs : null),
    },
  );
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
  const target = (recipient: string) => ({ channel: TEAMS_CHANNEL, recipient, userId: null });
  return teamsRound(deps, d, [
    ...[...byRecipient].map(([recipient, theirs]) => ({
      target: target(recipient),
      call: async () => {
        await updateCards(deps, theirs, final);
        return { ref: theirs.map((c) => c.activity_id).join(' ') };
      },
    })),
    ...webhooks.map((r) => ({
      target: target(r.key),
      call: async (deliveryId: string) => ({
        ref: await sendCard(deps, deps.teams, r, { id: deliveryId, actionId: occasion.action.id }, [], () => final),
      }),
    })),
  ]);
}
