import type { NotifyTarget } from '../config/notify-schema.js';
import type { Deps } from '../deps.js';
import type { ConsumerDefinition, Delivery } from '../events/consumers/types.js';
import { assertNever, isCsError } from '../lib/errors.js';
import { markFailed, markSent, reserveDelivery } from './deliveries.js';
import { issueDecisionLinks } from './email/links.js';
import { type DecisionLinks, type EmailKind, renderEmail } from './email/render-email.js';
import { threadRootOf } from './email/thread-root.js';
import type { EmailSender } from './email/transport.js';
import { resolveRecipients } from './recipients.js';
import { consoleUrlOf, summarize } from './render/summary.js';
import { CHANNEL_CONCURRENCY, NOTIFY_EVENT_TYPES, type Occasion, occasionOf, targetsFor } from './routing.js';

export const NOTIFY_CONSUMER = 'notify';

/** One message to one address: a person (who may get decision links) or a shared address. */
interface Recipient {
  channel: 'email';
  address: string;
  userId: string | null;
}

/**
 * The notification dispatcher: a durable consumer (so each event is handled by one node at a time, in
 * order, retried and dead-lettered) that turns the events where people are asked or a review ends into
 * messages, per the routes of the policy in force (`notifications.routes`, versioned with the workflows they
 * name, so every node follows the same). Every message is a delivery record keyed
 * by the event's idempotency key and the recipient: a redelivered event sends only what was not sent. Any
 * failed send makes the handler throw after the others were tried, so the event is retried (nothing lost).
 */
export function notifyConsumer(deps: Deps, email: EmailSender): ConsumerDefinition {
  const publicUrl = deps.config.server.publicUrl ?? '';
  return {
    name: NOTIFY_CONSUMER,
    types: NOTIFY_EVENT_TYPES,
    concurrency: CHANNEL_CONCURRENCY,
    async handle(delivery) {
      const occasion = occasionOf(delivery.event);
      if (!occasion) return;
      const stage = occasion.moment === 'asked' ? occasion.asked.stage.name : (occasion.action.workflow?.stage.name ?? null);
      const targets = targetsFor(deps.policy.current.routes, occasion.moment, occasion.action, stage);
      const recipients = await expand(deps, occasion, targets);
      const errors: string[] = [];
      for (const r of recipients) {
        const error = await sendOne(deps, email, delivery, occasion, r, publicUrl);
        if (error !== null) errors.push(`${r.address}: ${error}`);
      }
      if (errors.length > 0) throw new Error(`${errors.length} of ${recipients.length} notifications failed: ${errors.join('; ')}`);
    },
  };
}

async function expand(deps: Deps, occasion: NonNullable<Occasion>, targets: NotifyTarget[]): Promise<Recipient[]> {
  const out = new Map<string, Recipient>();
  for (const t of targets) {
    switch (t.kind) {
      case 'approvers': {
        // Slack and Teams DMs are their own consumers' targets.
        if (t.channel !== 'email') break;
        const approvers = occasion.moment === 'asked' ? occasion.asked.approvers : occasion.action.workflow?.stage.approvers;
        if (!approvers) break;
        for (const p of await resolveRecipients(deps.db.read, occasion.action, approvers)) {
          out.set(p.email.toLowerCase(), { channel: 'email', address: p.email, userId: p.id });
        }
        break;
      }
      case 'slack':
        break;
      case 'email':
        if (!out.has(t.address.toLowerCase())) out.set(t.address.toLowerCase(), { channel: 'email', address: t.address, userId: null });
        break;
      case 'teams_channel':
      case 'teams_webhook':
        // Another channel's target: the teams consumer (notify/teams) sends it.
        break;
      default:
        assertNever(t, 'notification target');
    }
  }
  return [...out.values()];
}

function kindOf(occasion: NonNullable<Occasion>): EmailKind {
  if (occasion.moment === 'decided') return 'decided';
  switch (occasion.asked.reason) {
    case 'review_started':
    case 'stage_started':
      return 'asked';
    case 'escalated':
      return 'escalated';
    case 'reminder':
      return 'reminder';
    default:
      return assertNever(occasion.asked.reason, 'asked reason');
  }
}

/** One recipient: reserve (skip if sent before), send, record. Returns the error, or null when sent or skipped. */
async function sendOne(
  deps: Deps,
  email: EmailSender,
  d: Delivery,
  occasion: NonNullable<Occasion>,
  r: Recipient,
  publicUrl: string,
): Promise<string | null> {
  const cfg = deps.config.notifications.email;
  const action = occasion.action;
  const stepUp = action.workflow?.stage.step_up != null;
  const wantLinks = cfg.decision_links && occasion.moment === 'asked' && r.userId !== null && action.status === 'pending';
  const reserving = reserveDelivery(
    deps,
    d.idempotencyKey,
    d.event,
    { channel: r.channel, recipient: r.address, userId: r.userId },
    (tx, id) =>
      wantLinks && !stepUp && r.userId !== null
        ? issueDecisionLinks(tx, {
            publicUrl,
            deliveryId: id,
            actionId: action.id,
            userId: r.userId,
            ttlMs: cfg.link_ttl,
            deadline: action.expires_at === null ? null : Date.parse(action.expires_at),
          })
        : Promise.resolve(null),
  );
  let reserved: Awaited<typeof reserving>;
  try {
    reserved = await reserving;
  } catch (e) {
    // Being sent by another attempt: this event is retried, the other recipients go ahead now.
    if (isCsError(e) && e.code === 'conflict') return e.message;
    throw e;
  }
  if (!reserved.send) return null;
  const links: DecisionLinks | null = !wantLinks
    ? null
    : stepUp
      ? { approve: null, deny: null, note: 'This stage needs a recent strong sign-in to approve: open the action in the console.' }
      : reserved.extra
        ? { approve: reserved.extra.approve, deny: reserved.extra.deny, note: null }
        : null;
  const message = renderEmail(r.address, kindOf(occasion), summarize(action, consoleUrlOf(publicUrl, action.id)), links, r.userId !== null);
  const root = await threadRootOf(deps.db.read, action.id, r.address);
  if (root !== null) message.inReplyTo = root;
  try {
    const ref = await email.send(message);
    await markSent(deps, reserved.id, action.id, ref);
    deps.metrics.notificationsSent.inc({ channel: r.channel });
    if (d.attempt > 1) deps.metrics.notificationsRetried.inc({ channel: r.channel });
    deps.metrics.notificationLatency.observe({ channel: r.channel }, Math.max(0, deps.clock.now() - d.event.ts) / 1000);
    return null;
  } catch (e) {
    const dead = d.attempt >= deps.config.events.consumerMaxAttempts;
    const error = e instanceof Error ? e.message : String(e);
    await markFailed(deps, reserved.id, action.id, error, dead);
    deps.metrics.notificationsFailed.inc({ channel: r.channel, status: dead ? 'dead' : 'failed' });
    return error;
  }
}
