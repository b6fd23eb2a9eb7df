import type { Logger } from 'pino';
import { assertNever } from '../../lib/errors.js';
import type { Metrics } from '../../metrics.js';

/** What this gateway last learned about the audit chain. */
export type ChainState =
  | { kind: 'unverified' }
  | { kind: 'intact'; entries: number; at: number }
  | { kind: 'tampered'; seq: number; problem: string; at: number; source: 'verification' | 'checkpointer' };

/**
 * The running gateway's view of its audit chain, fed by the periodic full
 * verification and by the checkpointer (which replays new entries before it
 * signs), read by /readyz and mirrored in the metrics. Once tampering is found
 * it stays reported until a full verification passes again: the checkpointer
 * only sees the entries since the last checkpoint, so its success proves
 * nothing about the rest of the chain.
 */
export class ChainHealth {
  private current: ChainState = { kind: 'unverified' };

  constructor(
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {}

  get state(): ChainState {
    return this.current;
  }

  /** A full verification from genesis found nothing wrong. */
  intact(entries: number, at: number): void {
    if (this.current.kind === 'tampered') {
      this.logger.warn({ entries }, 'the audit chain verifies again from genesis; clearing the tampering alarm');
    }
    this.current = { kind: 'intact', entries, at };
    this.metrics.auditChainOk.set(1);
    this.metrics.auditChainFirstBadSeq.set(0);
    this.metrics.auditChainVerifiedAt.set(at / 1000);
  }

  tampered(seq: number, problem: string, at: number, source: 'verification' | 'checkpointer'): void {
    const before = this.current;
    this.current = { kind: 'tampered', seq, problem, at, source };
    this.metrics.auditChainOk.set(0);
    this.metrics.auditChainFirstBadSeq.set(seq);
    if (source === 'verification') this.metrics.auditChainVerifiedAt.set(at / 1000);
    // Once per finding, not once per pass: the alarm is the metric and /readyz, the log says what to do.
    if (before.kind !== 'tampered' || before.seq !== seq || before.problem !== problem) {
      this.logger.error(
        { seq, problem, source },
        'AUDIT CHAIN TAMPERED: an audit entry does not verify; run `countersign audit verify` and see docs/audit.md ("When the running gateway finds tampering")',
      );
    }
  }

  /** One line for /readyz. */
  describe(): string {
    const s = this.current;
    switch (s.kind) {
      case 'unverified':
        return 'not verified yet';
      case 'intact':
        return 'intact';
      case 'tampered':
        return `tampered at entry ${s.seq}: ${s.problem}`;
      default:
        return assertNever(s, 'chain state');
    }
  }
}
