import type { Metrics } from '../../metrics.js';
import { EVENT, type StoredEvent } from '../types.js';
import type { ConsumerDefinition } from './types.js';

export const DECISION_METRICS_CONSUMER = 'decision-metrics';

/** The events that end a review one way or the other. */
const DECISION_TYPES = [EVENT.actionApproved, EVENT.actionDenied, EVENT.actionExpired] as const;

/**
 * Feeds `countersign_decisions_total` and `countersign_time_to_decision_seconds` from the outbox. As a
 * durable consumer it counts each decision exactly once across every node (whichever node holds the
 * lease counts it), where counting in the request path would count on the deciding node only and lose
 * counts across restarts mid-flight. Each instance's /metrics holds its share: sum over instances.
 */
export function decisionMetricsConsumer(metrics: Metrics): ConsumerDefinition {
  return {
    name: DECISION_METRICS_CONSUMER,
    types: DECISION_TYPES,
    handle({ event }) {
      const decision = classify(event);
      if (!decision) return;
      metrics.decisions.inc(decision.labels);
      if (decision.seconds !== null) metrics.timeToDecision.observe(decision.labels, decision.seconds);
    },
  };
}

/** The labels and duration of a decision event; null for anything else, and for an approval's execution window closing (counted as approved already). */
export function classify(event: StoredEvent): { labels: { outcome: string; decided_by: string }; seconds: number | null } | null {
  if (event.type !== EVENT.actionApproved && event.type !== EVENT.actionDenied && event.type !== EVENT.actionExpired) return null;
  const view = event.data.action;
  const outcome = event.type.slice('action.'.length);
  if (event.type === EVENT.actionExpired && view.execute_by !== null) return null;
  const type = view.decided_by?.type ?? 'system';
  // A person's decision is labelled with the channel of their deciding vote (api, and later slack, email…).
  const channel = type === 'user' ? view.reviews.at(-1)?.channel : undefined;
  const decidedBy = channel ? `user:${channel}` : type;
  const from = Date.parse(view.created_at);
  const to = Date.parse(view.decided_at ?? '');
  const seconds = Number.isFinite(from) && Number.isFinite(to) ? Math.max(0, to - from) / 1000 : null;
  return { labels: { outcome, decided_by: decidedBy }, seconds };
}
