import { Gauge } from 'prom-client';
import type { Deps } from '../deps.js';
import { type ConsumerBacklog, consumerBacklogs } from './consumer-backlog.js';
import { oldestPendingAge, PENDING_AGE_BUCKETS, pendingByAge } from './pending-by-age.js';

/**
 * Gauges whose values are read from the database when Prometheus scrapes (prom-client awaits a metric's
 * `collect` before rendering it), so they are the same on every node and cost nothing between scrapes.
 * Each read is bounded (pending-by-age.ts, consumer-backlog.ts). A failed read leaves the last values and
 * is logged: a database hiccup must not turn /metrics into a 500 and hide every other metric with it.
 */
export function registerScrapeGauges(deps: Deps): void {
  const { registry } = deps.metrics;
  const read = async (what: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (err) {
      deps.logger.warn({ err, metric: what }, 'could not read a metric from the database');
    }
  };
  new Gauge({
    name: 'countersign_actions_pending',
    help: 'Actions waiting for a decision now, by age bucket (under_1h … over_7d), counted by the hour they were proposed in; the same on every node',
    labelNames: ['age'] as const,
    registers: [registry],
    async collect() {
      await read('countersign_actions_pending', async () => {
        const counts = await pendingByAge(deps.db.read, deps.clock.now());
        for (const b of PENDING_AGE_BUCKETS) this.set({ age: b.label }, counts.get(b.label) ?? 0);
      });
    },
  });
  new Gauge({
    name: 'countersign_actions_pending_oldest_age_seconds',
    help: 'How long the oldest pending action has waited for a decision; 0 when none is pending',
    registers: [registry],
    async collect() {
      await read('countersign_actions_pending_oldest_age_seconds', async () => {
        this.set(((await oldestPendingAge(deps.db.read, deps.clock.now())) ?? 0) / 1000);
      });
    },
  });
  // Three gauges, one read per scrape: prom-client collects every metric of a scrape concurrently, so
  // the three collects share the read in flight (and a later scrape starts a new one).
  let inFlight: Promise<ConsumerBacklog[] | null> | undefined;
  const backlogs = () => {
    inFlight ??= consumerBacklogs(deps.db.read, deps.clock.now())
      .catch((err: unknown) => {
        deps.logger.warn({ err, metric: 'countersign_event_consumer_backlog' }, 'could not read a metric from the database');
        return null;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
  const perConsumer = (name: string, help: string, value: (b: ConsumerBacklog) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['consumer'] as const,
      registers: [registry],
      async collect() {
        const rows = await backlogs();
        if (rows === null) return;
        this.reset(); // a consumer forgotten since the last scrape is no longer listed
        for (const r of rows) this.set({ consumer: r.consumer }, value(r));
      },
    });
  perConsumer(
    'countersign_event_consumer_backlog_events',
    "Events committed after a durable consumer's cursor, not yet passed by it (one cursor per consumer, the same on every node)",
    (r) => r.events,
  );
  perConsumer(
    'countersign_event_consumer_backlog_oldest_seconds',
    'Age of the oldest event a durable consumer has not yet passed; 0 when it is caught up',
    (r) => r.oldestMs / 1000,
  );
  perConsumer(
    'countersign_event_consumer_dead_letters',
    'Dead letters not replayed, by consumer: events it gave up on after its retries',
    (r) => r.deadLetters,
  );
}
