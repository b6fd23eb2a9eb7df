import type { NotifyMoment, NotifyRoute, NotifyTarget } from '../config/notify-schema.js';
import type { ActionView } from '../domain/actions/schemas.js';
import { type Asked, EVENT, type StoredEvent } from '../events/types.js';
import { assertNever } from '../lib/errors.js';

/** The event types the notify consumer reads. */
export const NOTIFY_EVENT_TYPES = [
  EVENT.approvalRequired,
  EVENT.actionUpdated,
  EVENT.actionEscalated,
  EVENT.actionReminder,
  EVENT.actionApproved,
  EVENT.actionDenied,
  EVENT.actionExpired,
  EVENT.actionCancelled,
] as const;

/**
 * Deliveries a channel's consumer has in flight at once (ConsumerDefinition.concurrency): each one waits on
 * a platform round trip and its commits, so a burst of proposals is sent side by side rather than one after
 * another; the events of one action still go in order (a decision's update never overtakes the post it
 * updates). With a pass taking in events as they are committed and two commits per event
 * (deliver-round.ts), 8 was enough for bursts of 20 (bench/README.md, "Where a burst's time went"); 32
 * measured no better on PostgreSQL and showed a ~1.8 s stall in one SQLite burst, not yet explained.
 */
export const CHANNEL_CONCURRENCY = 8;

/** What an event means for notifications: people asked (and whom), a review ended, or nothing to say. */
export type Occasion = { moment: 'asked'; action: ActionView; asked: Asked } | { moment: 'decided'; action: ActionView } | null;

export function occasionOf(event: StoredEvent): Occasion {
  switch (event.type) {
    case EVENT.approvalRequired:
    case EVENT.actionUpdated:
      // A vote short of quorum asks nobody new; a new stage does.
      return event.data.asked ? { moment: 'asked', action: event.data.action, asked: event.data.asked } : null;
    case EVENT.actionEscalated:
    case EVENT.actionReminder:
      return { moment: 'asked', action: event.data.action, asked: event.data.asked };
    case EVENT.actionApproved:
    case EVENT.actionDenied:
    case EVENT.actionCancelled:
      return event.data.action.workflow ? { moment: 'decided', action: event.data.action } : null;
    case EVENT.actionExpired:
      // An approval whose execution window closed was reported as approved already.
      return event.data.action.workflow && event.data.action.execute_by === null ? { moment: 'decided', action: event.data.action } : null;
    case EVENT.actionCreated:
    case EVENT.actionRedeemed:
    case EVENT.actionExecuted:
    case EVENT.actionFailed:
    case EVENT.policyActivated:
      return null;
    default:
      return assertNever(event, 'event');
  }
}

/**
 * The targets of every route matching the action's workflow and stage (the stage named in `asked`, else the
 * stage the review was in) for this moment, each once. Reminders and escalations are `asked` moments, so
 * they follow the same routes as the first request.
 */
export function targetsFor(
  routes: readonly NotifyRoute[],
  moment: NotifyMoment,
  action: ActionView,
  stageName: string | null,
): NotifyTarget[] {
  const workflow = action.workflow?.name ?? action.policy.workflow;
  const out = new Map<string, NotifyTarget>();
  for (const r of routes) {
    if (r.digest !== undefined) continue; // sent by the digest job, one message a period
    if (!r.events.includes(moment)) continue;
    if (r.workflow !== '*' && r.workflow !== workflow) continue;
    if (r.stage !== undefined && r.stage !== stageName) continue;
    for (const t of r.to) out.set(JSON.stringify(t), t);
  }
  return [...out.values()];
}
