import type { Deps } from '../deps.js';
import { expireDueActions, nextExpiry } from '../domain/actions/expire-due-actions.js';
import type { TimerHandle } from '../lib/clock.js';

/** Upper bound on sleep, so deadlines written by another process (or the admin CLI) are still honoured. */
const MAX_SLEEP_MS = 5_000;

/**
 * Deadlines are rows (actions.expires_at), so nothing is lost on restart: at
 * start the scheduler expires whatever came due while it was down, then
 * sleeps on the injected clock until the earliest deadline.
 */
export class ExpiryScheduler {
  private timer: TimerHandle | undefined;
  private wakeAt = Number.POSITIVE_INFINITY;
  private running: Promise<void> | undefined;
  private stopped = false;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly deps: Deps) {}

  start(): void {
    this.stopped = false;
    this.unsubscribe = this.deps.bus.subscribe((e) => {
      if (e.type !== 'tool.approval_required') return;
      const at = Date.parse(String((e.data as { expires_at?: string }).expires_at ?? ''));
      if (Number.isFinite(at) && at < this.wakeAt) this.schedule(at);
    });
    void this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.timer?.cancel();
    await this.running;
  }

  /** Runs one pass now (tests and start-up); concurrent calls share the pass in flight. */
  tick(): Promise<void> {
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async pass(): Promise<void> {
    try {
      await expireDueActions(this.deps);
      const next = await nextExpiry(this.deps);
      if (!this.stopped) this.schedule(next ?? Number.POSITIVE_INFINITY);
    } catch (err) {
      this.deps.logger.error({ err }, 'expiry pass failed; retrying');
      if (!this.stopped) this.schedule(this.deps.clock.now() + 1000);
    }
  }

  private schedule(at: number): void {
    const now = this.deps.clock.now();
    const target = Math.min(at, now + MAX_SLEEP_MS);
    this.timer?.cancel();
    this.wakeAt = target;
    this.timer = this.deps.clock.setTimeout(() => {
      this.wakeAt = Number.POSITIVE_INFINITY;
      void this.tick();
    }, target - now);
  }
}
