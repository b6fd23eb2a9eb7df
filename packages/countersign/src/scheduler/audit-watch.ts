import type { Deps } from '../deps.js';
import { type AuditVerifyResult, verifyAudit } from '../domain/audit/verify-audit.js';
import { racedACommit } from '../domain/audit/verify-live.js';
import type { TimerHandle } from '../lib/clock.js';

/**
 * Verifies the whole audit chain from genesis, at start and then every
 * `audit.verify_interval`, and records the outcome in `deps.auditHealth`
 * (readiness, metrics, one error line per finding). The checkpointer only
 * replays the entries since the last checkpoint, so without this an edit to an
 * older entry would go unnoticed by a running gateway.
 *
 * It reads the live database while the gateway writes, so a verification that
 * ends on "the head records more entries than verify" is checked once more: if
 * the next entry exists now, it was committed during the walk, not removed.
 */
export class AuditWatch {
  private timer: TimerHandle | undefined;
  private running: Promise<AuditVerifyResult | null> | undefined;
  private stopped = true;

  constructor(
    private readonly deps: Deps,
    /** How worker threads open connections, for long chains (as the CLI verifies). */
    private readonly connection?: { url: string; schema?: string | undefined },
  ) {}

  start(): void {
    if (this.deps.config.audit.verifyIntervalMs <= 0) return;
    this.stopped = false;
    void this.check();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    await this.running;
  }

  /** One verification now; concurrent calls share the one in flight. Null when it could not run. */
  check(): Promise<AuditVerifyResult | null> {
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Resolves when the verification in flight, if any, has finished; starts none (tests on a fake clock). */
  async settled(): Promise<void> {
    await this.running;
  }

  private async run(): Promise<AuditVerifyResult | null> {
    const { auditHealth, metrics, logger, clock } = this.deps;
    try {
      const r = await verifyAudit(this.deps.db.read, this.connection ? { connection: this.connection } : {});
      const at = clock.now();
      if (r.ok || (await racedACommit(this.deps.db.read, r))) {
        metrics.auditChainVerifications.inc({ result: 'intact' });
        auditHealth.intact(r.entries, at);
      } else {
        metrics.auditChainVerifications.inc({ result: 'tampered' });
        const bad = r.firstBad ?? { seq: r.headSeq + 1, problem: 'the chain does not verify' };
        auditHealth.tampered(bad.seq, bad.problem, at, 'verification');
      }
      return r;
    } catch (err) {
      // Not evidence of tampering (the database may be down); readiness already reports the database.
      metrics.auditChainVerifications.inc({ result: 'error' });
      logger.warn({ err }, 'audit chain verification could not run; retrying at the next interval');
      return null;
    } finally {
      this.schedule();
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer?.cancel();
    this.timer = this.deps.clock.setTimeout(() => {
      this.timer = undefined;
      void this.check();
    }, this.deps.config.audit.verifyIntervalMs);
  }
}
