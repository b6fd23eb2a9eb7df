import type { StoredEvent } from '../../db/committer.js';
import type { Metrics } from '../../metrics.js';
import type { ConsumerDefinition } from './types.js';

export const DECISION_METRICS_CONSUMER = 'decision-metrics';

/** The events that end a review one way or the other. */
const DECISION_TYPES = ['action.approved', 'action.denied', 'action.expired'] as const;

interface DecidedView {
  created_at?: string;
  decided_at?: string | null;
  execute_by?: string | null;
  decided_by?: { type?: string } | null;
  reviews?: { channel?: string; decision?: string }[];
}

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

/** The labels and duration of a decision event; null for an approval's execution window closing (already counted as approved). */
export function classify(event: StoredEvent): { labels: { outcome: string; decided_by: string }; seconds: number | null } | null {
  const view = event.data as DecidedView;
  const outcome = event.type.slice('action.'.length);
  if (outcome === 'expired' && view.execute_by) return null;
  const type = view.decided_by?.type ?? 'system';
  // A person's decision is labelled with the channel of their deciding vote (api, and later slack, email…).
  const channel = type === 'user' ? [...(view.reviews ?? [])].reverse().find((r) => r.channel)?.channel : undefined;
  const decidedBy = channel ? `user:${channel}` : type;
  const from = Date.parse(view.created_at ?? '');
  const to = Date.parse(view.decided_at ?? '');
  const seconds = Number.isFinite(from) && Number.isFinite(to) ? Math.max(0, to - from) / 1000 : null;
  return { labels: { outcome, decided_by: decidedBy }, seconds };
}
