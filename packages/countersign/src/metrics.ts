import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** One registry per gateway instance (never prom-client's global), so tests can run several side by side. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'countersign_' });
  const metrics = {
    registry,
    actionsCreated: new Counter({
      name: 'countersign_actions_created_total',
      help: 'Actions proposed, by initial status',
      labelNames: ['status'] as const,
      registers: [registry],
    }),
    transitions: new Counter({
      name: 'countersign_action_transitions_total',
      help: 'Status changes after creation, by new status',
      labelNames: ['status'] as const,
      registers: [registry],
    }),
    policyErrors: new Counter({
      name: 'countersign_policy_evaluation_errors_total',
      help: 'Policy conditions that failed to evaluate (each sent its action to review instead of allowing it)',
      registers: [registry],
    }),
    timersFired: new Counter({
      name: 'countersign_timers_fired_total',
      help: 'Workflow deadlines fired, by kind',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'countersign_http_request_duration_seconds',
      help: 'HTTP request duration by route and status code',
      labelNames: ['method', 'route', 'code'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 30, 65],
      registers: [registry],
    }),
    auditChainOk: new Gauge({
      name: 'countersign_audit_chain_ok',
      help: '1 while no check has found the audit chain tampered; 0 once one has, until a full verification passes again',
      registers: [registry],
    }),
    auditChainFirstBadSeq: new Gauge({
      name: 'countersign_audit_chain_first_bad_seq',
      help: 'Sequence number of the first audit entry that does not verify; 0 while none is known',
      registers: [registry],
    }),
    auditChainVerifiedAt: new Gauge({
      name: 'countersign_audit_chain_last_verified_timestamp_seconds',
      help: 'When the last full verification of the audit chain finished (Unix time); 0 before the first',
      registers: [registry],
    }),
    auditChainVerifications: new Counter({
      name: 'countersign_audit_chain_verifications_total',
      help: 'Full verifications of the audit chain by the running gateway, by result (intact, tampered, error)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    decisions: new Counter({
      name: 'countersign_decisions_total',
      help: 'Final decisions on actions (approved, denied, expired before approval), by outcome and who decided (user channel, policy, grant, system); counted once across all nodes by the decision-metrics consumer, so sum over instances',
      labelNames: ['outcome', 'decided_by'] as const,
      registers: [registry],
    }),
    timeToDecision: new Histogram({
      name: 'countersign_time_to_decision_seconds',
      help: 'From proposal to final decision, by outcome and who decided; counted once across all nodes (sum over instances)',
      labelNames: ['outcome', 'decided_by'] as const,
      buckets: [0.001, 0.01, 0.1, 1, 10, 60, 300, 900, 3600, 14_400, 86_400],
      registers: [registry],
    }),
    consumerDeliveries: new Counter({
      name: 'countersign_event_consumer_deliveries_total',
      help: 'Event deliveries to durable consumers on this node, by result (ok, retry, dead_letter)',
      labelNames: ['consumer', 'result'] as const,
      registers: [registry],
    }),
    consumerLag: new Histogram({
      name: 'countersign_event_consumer_lag_seconds',
      help: 'Per handled batch: from the commit of its last event to the end of its handling',
      labelNames: ['consumer'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 30, 300],
      registers: [registry],
    }),
    eventsDeleted: new Counter({
      name: 'countersign_events_deleted_total',
      help: 'Outbox events deleted by retention (audit entries are never deleted)',
      registers: [registry],
    }),
    waiters: new Gauge({
      name: 'countersign_waiters',
      help: 'Open long-poll and SSE connections',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    feedPublished: new Counter({
      name: 'countersign_event_feed_published_total',
      help: "Events published to this gateway's subscribers, by where they came from (local commit, or read from the outbox)",
      labelNames: ['source'] as const,
      registers: [registry],
    }),
    feedReads: new Counter({
      name: 'countersign_event_feed_reads_total',
      help: 'Outbox reads by the event feed, by what asked for them (notify, gap, reconnect, poll)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    feedLag: new Histogram({
      name: 'countersign_event_feed_lag_seconds',
      help: "From an event's commit (its timestamp) to its publication here, for events read from the outbox",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    feedHighWater: new Gauge({
      name: 'countersign_event_feed_high_water_seq',
      help: "Highest event sequence number published to this gateway's subscribers",
      registers: [registry],
    }),
    listenConnected: new Gauge({
      name: 'countersign_event_listen_connected',
      help: '1 while the PostgreSQL LISTEN connection is up (always 0 on SQLite, which has none)',
      registers: [registry],
    }),
    listenReconnects: new Counter({
      name: 'countersign_event_listen_reconnects_total',
      help: 'Times the LISTEN connection was re-established after it dropped (each replays the gap from the outbox)',
      registers: [registry],
    }),
    notificationsSent: new Counter({
      name: 'countersign_notifications_sent_total',
      help: 'Notifications sent by this node, by channel (email…); each is sent once across all nodes (sum over instances)',
      labelNames: ['channel'] as const,
      registers: [registry],
    }),
    notificationsFailed: new Counter({
      name: 'countersign_notifications_failed_total',
      help: 'Notification sends that failed, by channel and whether the event will be retried (failed) or was given up on (dead)',
      labelNames: ['channel', 'status'] as const,
      registers: [registry],
    }),
    notificationsRetried: new Counter({
      name: 'countersign_notifications_retried_total',
      help: 'Notification sends that were a second or later attempt for the same recipient, by channel',
      labelNames: ['channel'] as const,
      registers: [registry],
    }),
    notificationLatency: new Histogram({
      name: 'countersign_notification_latency_seconds',
      help: "From the event's commit to the notification's acceptance by the channel (the SMTP server), by channel",
      labelNames: ['channel'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600],
      registers: [registry],
    }),
    auditExportSent: new Counter({
      name: 'countersign_audit_export_entries_sent_total',
      help: 'Audit entries delivered to a SIEM sink by this node (a batch sent again after a restart counts again)',
      labelNames: ['sink'] as const,
      registers: [registry],
    }),
    auditExportFailures: new Counter({
      name: 'countersign_audit_export_failures_total',
      help: 'Failed sends to a SIEM sink by this node; the batch is sent again after a back-off, nothing is skipped',
      labelNames: ['sink'] as const,
      registers: [registry],
    }),
    auditExportLag: new Gauge({
      name: 'countersign_audit_export_lag_entries',
      help: 'Audit entries written but not yet delivered to a SIEM sink, as last seen by the node streaming it',
      labelNames: ['sink'] as const,
      registers: [registry],
    }),
    auditExportLagSeconds: new Gauge({
      name: 'countersign_audit_export_lag_seconds',
      help: 'How long the oldest undelivered audit entry has waited for a SIEM sink (0 when caught up), as last seen by the node streaming it',
      labelNames: ['sink'] as const,
      registers: [registry],
    }),
    auditExportCursor: new Gauge({
      name: 'countersign_audit_export_cursor_seq',
      help: 'The last audit seq a SIEM sink has taken (every entry up to it was delivered)',
      labelNames: ['sink'] as const,
      registers: [registry],
    }),
  };
  // An unset gauge reads 0, which here would be the alarm: no check has found anything yet.
  metrics.auditChainOk.set(1);
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;
