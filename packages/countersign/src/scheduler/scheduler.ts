import type { Deps } from '../deps.js';
import { expireDueActions, nextExpiry } from '../domain/actions/expire-due-actions.js';
import { expireUnredeemed, nextWindowEnd } from '../domain/receipts/expire-unredeemed.js';
import { fireDueTimers, nextTimer } from '../domain/workflow/fire-timers.js';
import { EVENT, type EventType } from '../events/types.js';
import type { TimerHandle } from '../lib/clock.js';

/** Upper bound on sleep, so deadlines written by another process (or the admin CLI) are still honoured. */
const MAX_SLEEP_MS = 5_000;

/** Events after which a new, earlier deadline may exist. */
const WAKE_EVENTS: ReadonlySet<EventType> = new Set([
  EVENT.approvalRequired,
  EVENT.actionApproved,
  EVENT.actionUpdated,
  EVENT.actionEscalated,
  EVENT.actionReminder,
]);

/**
 * Deadlines are rows (actions.expires_at for whole reviews, timers for stage
 * time-outs and escalations), so nothing is lost on restart: at start the
 * scheduler fires whatever came due while it was down, then sleeps on the
 * injected clock until the earliest deadline.
 */
export class Scheduler {
  private timer: TimerHandle | undefined;
  private wakeAt = Number.POSITIVE_INFINITY;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** The earliest-timer read in flight, if any (stop() waits for it). */
  private peeking: Promise<void> | undefined;
  private peekAgain = false;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly deps: Deps) {}

  start(): void {
    this.stopped = false;
    this.unsubscribe = this.deps.bus.subscribe((e) => {
      if (!WAKE_EVENTS.has(e.type) || !('deadlines' in e.data)) return;
      const { expires_at_ms, stage_timeout_at_ms, execute_by_ms } = e.data.deadlines;
      const at = Math.min(...[expires_at_ms, stage_timeout_at_ms, execute_by_ms].map((t) => t ?? Number.POSITIVE_INFINITY));
      if (at < this.wakeAt) this.schedule(at);
      // Escalation times are not in the event. Reading the earliest timer is one indexed query, where a
      // whole pass would be eight and three transactions on every proposal that starts a stage.
      if (e.type === EVENT.actionUpdated || (e.type === EVENT.approvalRequired && e.data.action.workflow?.stage)) this.peekTimers();
    });
    void this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.timer?.cancel();
    await this.running;
    await this.peeking;
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
      await fireDueTimers(this.deps);
      await expireDueActions(this.deps);
      await expireUnredeemed(this.deps);
      const candidates = [await nextTimer(this.deps), await nextExpiry(this.deps), await nextWindowEnd(this.deps)];
      const next = Math.min(...candidates.map((c) => c ?? Number.POSITIVE_INFINITY));
      // An event during the pass may have brought the wake-up forward past what these reads saw;
      // keeping the earlier one costs at most one extra pass.
      if (!this.stopped) this.schedule(Math.min(next, this.wakeAt));
    } catch (err) {
      this.deps.logger.error({ err }, 'scheduler pass failed; retrying');
      if (!this.stopped) this.schedule(this.deps.clock.now() + 1000);
    }
  }

  /**
   * Brings the wake-up forward to the earliest timer row. Events during a read share one more read
   * after it, since the one in flight may have started before their timers committed.
   */
  private peekTimers(): void {
    if (this.stopped) return;
    if (this.peeking) {
      this.peekAgain = true;
      return;
    }
    this.peeking = nextTimer(this.deps)
      .then((at) => {
        if (at !== null && at < this.wakeAt && !this.stopped) this.schedule(at);
      })
      .catch((err) => this.deps.logger.warn({ err }, 'could not read the next timer'))
      .finally(() => {
        this.peeking = undefined;
        if (this.peekAgain) {
          this.peekAgain = false;
          this.peekTimers();
        }
      });
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
