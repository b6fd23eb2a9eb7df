import type { Deps } from '../deps.js';
import { PRUNE_BATCH, pruneEvents } from '../events/prune-events.js';
import type { TimerHandle } from '../lib/clock.js';

/** How often retention looks for old events. Deleting is never urgent; an hour of extra rows costs nothing. */
export const RETENTION_INTERVAL_MS = 60_000;
/** Batches per pass at most, so a first run over a large backlog yields to the write path between passes. */
const MAX_BATCHES_PER_PASS = 100;

/**
 * Deletes outbox events older than `events.retention` (0: keep all), in bounded batches, never one a
 * registered consumer has not passed or still owes a retry or a replay. Every node may run it: the
 * deletes are idempotent, and whichever node gets there first does the work.
 */
export class Retention {
  private timer: TimerHandle | undefined;
  private running: Promise<number> | undefined;
  private stopped = true;

  constructor(private readonly deps: Deps) {}

  start(): void {
    if (this.deps.config.events.retentionMs <= 0) return;
    this.stopped = false;
    void this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    await this.running;
  }

  /** One pass now (tests); concurrent calls share it. Resolves to the number of events deleted. */
  tick(): Promise<number> {
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
      if (!this.stopped) {
        this.timer?.cancel();
        this.timer = this.deps.clock.setTimeout(() => void this.tick(), RETENTION_INTERVAL_MS);
      }
    });
    return this.running;
  }

  private async pass(): Promise<number> {
    if (this.deps.config.events.retentionMs <= 0) return 0;
    const cutoff = this.deps.clock.now() - this.deps.config.events.retentionMs;
    let deleted = 0;
    try {
      for (let i = 0; i < MAX_BATCHES_PER_PASS && !(i > 0 && this.stopped); i++) {
        const n = await pruneEvents(this.deps, cutoff);
        deleted += n;
        if (n < PRUNE_BATCH) break;
      }
    } catch (err) {
      this.deps.logger.error({ err }, 'event retention pass failed; trying again later');
    }
    if (deleted > 0) {
      this.deps.metrics.eventsDeleted.inc(deleted);
      this.deps.logger.info({ deleted }, 'deleted old events (retention)');
    }
    return deleted;
  }
}
