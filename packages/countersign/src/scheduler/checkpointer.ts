import type { Deps } from '../deps.js';
import { isValidOrigin } from '../domain/audit/checkpoint-note.js';
import { type CheckpointRecord, checkpointState, writeCheckpoint } from '../domain/audit/write-checkpoint.js';
import type { TimerHandle } from '../lib/clock.js';
import { CsError, isCsError } from '../lib/errors.js';
import { CheckpointCommand } from './checkpoint-command.js';

/** Upper bound on sleep, so entries written by other gateways are noticed. */
const MAX_SLEEP_MS = 5_000;
/** After local commits, look again this soon: batches the look-ups under load (at most a few per second). */
const ACTIVITY_DELAY_MS = 250;
/** How long stop() waits for a running checkpoint_command before leaving it to finish on its own. */
const STOP_WAIT_MS = 5_000;

/**
 * Signs a checkpoint of the audit chain every `audit.checkpoint_every` new
 * entries, or `audit.checkpoint_interval` after the previous checkpoint when
 * there are new entries, whichever comes first. Runs on the injected clock.
 * Several gateways on one database share the checkpoints table: each looks at
 * the latest checkpoint any of them stored, and a size is stored once.
 */
export class Checkpointer {
  private timer: TimerHandle | undefined;
  private wakeAt = Number.POSITIVE_INFINITY;
  private pending: Promise<CheckpointRecord | null> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private stopped = true;
  private startedAt = 0;
  private alarmed = -1;
  private unsubscribe: (() => void) | undefined;
  private readonly command: CheckpointCommand | undefined;

  constructor(private readonly deps: Deps) {
    const cmd = deps.config.audit.checkpointCommand;
    this.command = cmd ? new CheckpointCommand(cmd, deps.logger) : undefined;
  }

  start(): void {
    const { origin } = this.deps.config.audit;
    if (!isValidOrigin(origin)) {
      throw new CsError('invalid_request', `audit.origin "${origin}" must not be empty or contain spaces, "+" or control characters`);
    }
    this.stopped = false;
    this.startedAt = this.deps.clock.now();
    this.unsubscribe = this.deps.bus.subscribe(() => this.schedule(this.deps.clock.now() + ACTIVITY_DELAY_MS));
    void this.tick().catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.timer?.cancel();
    await this.queue;
    await this.command?.idle(STOP_WAIT_MS);
  }

  /** One pass now: signs a checkpoint if one is due. Concurrent calls share the pass waiting to run. */
  tick(): Promise<CheckpointRecord | null> {
    this.pending ??= this.serial(() => {
      this.pending = undefined;
      return this.pass(false);
    });
    return this.pending;
  }

  /** Signs the current head now if it grew since the latest checkpoint, whatever the thresholds (tests). */
  checkpointNow(): Promise<CheckpointRecord | null> {
    return this.serial(() => this.pass(true));
  }

  /** Resolves when the passes queued so far have finished (tests on a fake clock). */
  async settled(): Promise<void> {
    let q: Promise<unknown>;
    do {
      q = this.queue;
      await q;
    } while (q !== this.queue);
  }

  /** Resolves when checkpoint_command has shipped everything (tests). */
  shipped(): Promise<void> {
    return this.command?.idle() ?? Promise.resolve();
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async pass(force: boolean): Promise<CheckpointRecord | null> {
    const { checkpointEvery, checkpointIntervalMs } = this.deps.config.audit;
    const now = this.deps.clock.now();
    let written: CheckpointRecord | null = null;
    try {
      const state = await checkpointState(this.deps);
      const lastSize = state.last?.size ?? 0;
      const lastAt = state.last?.createdAt ?? this.startedAt;
      const grown = state.size - lastSize;
      if (grown < 0 && this.alarmed !== lastSize) {
        // Only removal makes the chain shorter than a signed checkpoint; say so once, not every pass.
        this.alarmed = lastSize;
        this.deps.auditHealth.tampered(
          state.size + 1,
          `the chain head records ${state.size} entries but a checkpoint was signed at ${lastSize}: entries were removed`,
          now,
          'checkpointer',
        );
      }
      if (grown > 0 && (force || grown >= checkpointEvery || now >= lastAt + checkpointIntervalMs)) {
        written = await writeCheckpoint(this.deps);
        if (written) {
          this.deps.logger.info({ size: written.size, kid: written.kid }, 'audit checkpoint signed');
          this.command?.ship(written);
        }
      }
      const dueAt = written ? now + checkpointIntervalMs : grown > 0 ? lastAt + checkpointIntervalMs : Number.POSITIVE_INFINITY;
      this.schedule(Math.max(dueAt, now + ACTIVITY_DELAY_MS));
    } catch (err) {
      // A chain that does not replay is tampering, not a passing failure: make it visible beyond the log.
      const { seq, problem } = (isCsError(err) ? err.details : undefined) ?? {};
      if (typeof seq === 'number') this.deps.auditHealth.tampered(seq, String(problem), now, 'checkpointer');
      this.deps.logger.error({ err }, 'audit checkpoint failed; retrying later');
      this.schedule(now + Math.max(MAX_SLEEP_MS, Math.min(checkpointIntervalMs, 60_000)));
      throw err;
    }
    return written;
  }

  private schedule(at: number): void {
    if (this.stopped) return;
    const now = this.deps.clock.now();
    const target = Math.min(at, now + MAX_SLEEP_MS);
    // Keep an earlier wake-up already set (activity arrives in bursts).
    if (this.timer && this.wakeAt <= target && this.wakeAt >= now) return;
    this.timer?.cancel();
    this.wakeAt = target;
    this.timer = this.deps.clock.setTimeout(() => {
      this.timer = undefined;
      this.wakeAt = Number.POSITIVE_INFINITY;
      void this.tick().catch(() => undefined);
    }, target - now);
  }
}
