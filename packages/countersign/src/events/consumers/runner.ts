import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Deps } from '../../deps.js';
import type { ConsumerRegistry } from './registry.js';
import { ConsumerWorker } from './worker.js';

/**
 * How long a consumer sleeps between looks at the outbox when no wake-up came: 1 s after work, growing
 * to 5 s while idle (the bus wakes it at once for local events and, through the cross-node feed, remote ones).
 */
export const CONSUMER_BACKSTOP_MS = 1_000;
export const CONSUMER_MAX_BACKSTOP_MS = 5_000;

/** Runs every registered consumer on this node (one worker each); started and stopped by the gateway. */
export class ConsumerRunner {
  /** This process's lease owner id: host and pid for people reading the admin list, random for uniqueness. */
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly workers = new Map<string, ConsumerWorker>();
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly deps: Deps,
    private readonly registry: ConsumerRegistry,
  ) {}

  start(): void {
    this.unsubscribe = this.registry.onRegister((def) => {
      const worker = new ConsumerWorker(this.deps, def, {
        owner: this.owner,
        leaseMs: this.deps.config.events.consumerLeaseMs,
        maxAttempts: this.deps.config.events.consumerMaxAttempts,
        backstopMs: CONSUMER_BACKSTOP_MS,
        maxBackstopMs: CONSUMER_MAX_BACKSTOP_MS,
      });
      this.workers.set(def.name, worker);
      worker.start();
    });
  }

  /** Runs every consumer (or one) until it has nothing more to do now; tests use it with a fake clock. */
  async tick(name?: string): Promise<void> {
    const workers = name === undefined ? [...this.workers.values()] : [this.workers.get(name)].filter((w) => w !== undefined);
    await Promise.all(workers.map((w) => w.tick()));
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    await Promise.all([...this.workers.values()].map((w) => w.stop()));
    this.workers.clear();
  }
}
