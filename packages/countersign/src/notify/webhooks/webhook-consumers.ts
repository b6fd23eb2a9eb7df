import type { Deps } from '../../deps.js';
import type { ConsumerRegistry } from '../../events/consumers/registry.js';
import { type EventType, isEventType } from '../../events/types.js';
import type { TimerHandle } from '../../lib/clock.js';
import { consumerName, eventTypesOf } from './endpoint-row.js';
import { PRUNE_DELIVERIES_BATCH, pruneDeliveries } from './prune-deliveries.js';
import { DEFAULT_SEND, type SendOptions } from './send.js';
import { webhookConsumer } from './webhook-consumer.js';

/** How often each node looks for endpoints added elsewhere (another node, the CLI). */
export const WEBHOOK_SYNC_MS = 5_000;
/** How often it deletes delivery log rows older than `events.retention`. */
export const PRUNE_EVERY_MS = 60_000;

/**
 * Registers a consumer for every webhook endpoint, on every node: at start, then every few seconds for
 * endpoints added since (on any node or by the CLI). Registration only makes this node a candidate; the
 * consumer's lease picks one node to deliver, so each event reaches each endpoint once across gateways.
 * An endpoint never misses events while no node has noticed it yet: its cursor was set when it was
 * created. Disabled endpoints stay registered (they pass events by), so enabling one needs no restart.
 * Once a minute it also deletes delivery log rows older than `events.retention`.
 */
export class WebhookConsumers {
  private timer: TimerHandle | undefined;
  private stopped = true;
  private syncing: Promise<void> | undefined;
  private lastPrune = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly deps: Deps,
    private readonly registry: ConsumerRegistry,
    private readonly send: SendOptions = DEFAULT_SEND,
  ) {}

  start(): void {
    this.stopped = false;
    this.loop();
  }

  /** Registers consumers for endpoints not yet registered here (tests call it rather than wait). */
  sync(): Promise<void> {
    this.syncing ??= this.registerNew().finally(() => {
      this.syncing = undefined;
    });
    return this.syncing;
  }

  /** Deletes the delivery log rows older than `events.retention` (0 keeps them all); returns how many went. */
  async prune(): Promise<number> {
    const keep = this.deps.config.events.retentionMs;
    if (keep <= 0) return 0;
    const cutoff = this.deps.clock.now() - keep;
    let total = 0;
    for (;;) {
      const n = await pruneDeliveries(this.deps, cutoff);
      total += n;
      if (n < PRUNE_DELIVERIES_BATCH || this.stopped) return total;
    }
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  private loop(): void {
    if (this.stopped) return;
    const now = this.deps.clock.now();
    const prune = now - this.lastPrune >= PRUNE_EVERY_MS;
    if (prune) this.lastPrune = now;
    this.sync()
      .then(() => (prune ? this.prune() : 0))
      .catch((err: unknown) => this.deps.logger.warn({ err }, 'could not read the webhook endpoints; trying again'))
      .finally(() => {
        if (!this.stopped) this.timer = this.deps.clock.setTimeout(() => this.loop(), WEBHOOK_SYNC_MS);
      });
  }

  private async registerNew(): Promise<void> {
    const rows = await this.deps.db.read.selectFrom('webhook_endpoints').selectAll().orderBy('id').execute();
    const known = new Set(this.registry.list().map((d) => d.name));
    for (const row of rows) {
      if (known.has(consumerName(row.id))) continue;
      const stored = eventTypesOf(row);
      const types = stored.filter((t): t is EventType => isEventType(t));
      // Filtered to types this version no longer has: nothing to deliver (an empty filter would mean all).
      if (stored.length > 0 && types.length === 0) continue;
      this.registry.register(webhookConsumer(this.deps, row.id, types, this.send));
    }
  }
}
