import type { Deps } from '../deps.js';
import { compileVersion, readActiveVersion, requireVersion } from '../domain/policy/versions.js';
import { EVENT } from './types.js';

/** Under a second, so the read and a compile still land within the second a change is promised in. */
const TICK_MS = 800;

/**
 * Keeps this node deciding with the database's active policy version. A `policy.activated` event on the
 * bus (this process, or another node's via the cross-node feed) triggers a read at once; a read of the
 * one `policy_active` row every 0.8 s is the backstop, so a change written by the admin CLI or by a
 * node whose events do not reach this one is in force here within a second. Only a newer version is
 * compiled, so the tick costs one primary-key read.
 *
 * The tick is a real timer, not the injected clock (as in identity-watcher.ts): what it watches is other
 * processes writing the database in real time, and tests that drive hours of fake time through the
 * scheduler would otherwise pay one database read per simulated second.
 */
export class PolicyWatcher {
  private timer: ReturnType<typeof setInterval> | undefined;
  private unsubscribe: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  /** A version that failed to compile is reported once, not at every check. */
  private failed: number | undefined;

  constructor(
    private readonly deps: Pick<Deps, 'db' | 'bus' | 'logger' | 'policy'>,
    private readonly tickMs = TICK_MS,
  ) {}

  start(): void {
    this.unsubscribe = this.deps.bus.subscribe((e) => {
      if (e.type === EVENT.policyActivated) void this.sync();
    });
    this.timer = setInterval(() => void this.sync(), this.tickMs);
    this.timer.unref();
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Reads the active version and switches to it if it is newer; resolves when that is done. Never rejects. */
  sync(): Promise<void> {
    if (this.running) {
      // A read in flight may have started before the change committed: run once more after it.
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.check().catch((err: unknown) => this.deps.logger.warn({ err }, 'policy version check failed; retrying'));
      } while (this.again);
      this.running = undefined;
    })();
    return this.running;
  }

  private async check(): Promise<void> {
    const { db, policy, logger } = this.deps;
    const active = await readActiveVersion(db.read);
    if (active === 0 || active === this.failed || (policy.version !== null && active <= policy.version)) return;
    const row = await requireVersion(db.read, active);
    try {
      const loaded = compileVersion(row);
      if (policy.adopt(loaded, active)) logger.info({ version: active, hash: loaded.hash }, 'policy version now in force');
    } catch (err) {
      this.failed = active;
      logger.error({ err, version: active }, 'the active policy version does not compile here; the previous one stays in force');
    }
  }
}
