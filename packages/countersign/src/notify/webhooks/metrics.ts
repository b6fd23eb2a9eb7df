import { Counter, Histogram, type Registry } from 'prom-client';

export interface WebhookMetrics {
  deliveries: Counter<'result'>;
  latency: Histogram<'result'>;
}

/**
 * `countersign_webhook_deliveries_total{result}` (`sent`, `failed`, `retried`: a failed attempt that
 * came after an earlier one of the same event) and `countersign_webhook_delivery_seconds{result}`, on
 * the gateway's own registry (one per instance, so tests run several side by side): created by the
 * first delivery, found by every later one.
 */
export function webhookMetrics(registry: Registry): WebhookMetrics {
  const deliveries =
    (registry.getSingleMetric('countersign_webhook_deliveries_total') as Counter<'result'> | undefined) ??
    new Counter({
      name: 'countersign_webhook_deliveries_total',
      help: 'Webhook delivery attempts: sent (2xx), failed (first attempt), retried (a later attempt that failed)',
      labelNames: ['result'] as const,
      registers: [registry],
    });
  const latency =
    (registry.getSingleMetric('countersign_webhook_delivery_seconds') as Histogram<'result'> | undefined) ??
    new Histogram({
      name: 'countersign_webhook_delivery_seconds',
      help: 'Webhook request duration, from connecting to the status line, by result',
      labelNames: ['result'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
  return { deliveries, latency };
}
