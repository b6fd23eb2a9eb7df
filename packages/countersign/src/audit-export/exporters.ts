import type { Deps } from '../deps.js';
import { CONSUMER_BACKSTOP_MS, CONSUMER_MAX_BACKSTOP_MS } from '../events/consumers/runner.js';
import { AuditExporter } from './exporter.js';
import { createSink } from './sinks.js';

/** One exporter per configured sink on this node; started and stopped by the gateway. Tests call tick(). */
export class AuditExporters {
  private readonly exporters: AuditExporter[];

  /** `owner`: this node's lease id, the same one its durable consumers use, so admins see one name per node. */
  constructor(deps: Deps, owner: string) {
    this.exporters = deps.config.auditExport.sinks.map(
      (cfg) =>
        new AuditExporter(deps, createSink(cfg, deps.clock), {
          owner,
          leaseMs: deps.config.events.consumerLeaseMs,
          batchSize: cfg.batch_size,
          startAt: cfg.start_at,
          timeoutMs: cfg.timeout,
          backstopMs: CONSUMER_BACKSTOP_MS,
          maxBackstopMs: CONSUMER_MAX_BACKSTOP_MS,
        }),
    );
  }

  start(): void {
    for (const e of this.exporters) e.start();
  }

  /** Runs every sink (or one) until it has nothing more to do now. */
  async tick(name?: string): Promise<void> {
    await Promise.all(this.exporters.filter((e) => name === undefined || e.name === name).map((e) => e.tick()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.exporters.map((e) => e.stop()));
  }
}
