import { type AuditEntryFields, auditEntryHash, GENESIS_HASH } from './chain.js';

export type AuditProblemKind = 'edited' | 'deleted' | 'reordered' | 'truncated' | 'rewritten' | 'forged_checkpoint' | 'malformed';

export interface AuditProblem {
  /** The first sequence number that does not verify. */
  seq: number;
  kind: AuditProblemKind;
  problem: string;
}

export interface StoredAuditEntry extends AuditEntryFields {
  prev_hash: string;
  hash: string;
}

/** A checkpoint whose signature already verified: the chain must have `headHash` at `size`. */
export interface TrustedCheckpoint {
  size: number;
  headHash: string;
  kid: string;
}

/**
 * Replays the chain one entry at a time, from genesis or from a trusted
 * point, and stops at the first problem. The same walk serves the database
 * (`audit verify`), an exported file (offline) and the checkpointer (which
 * only signs a head it has seen extend the previous checkpoint).
 *
 * What each check catches: a gap in seq is a deleted entry; a prev_hash that
 * does not name the previous entry is a reordered or replaced one; a hash that
 * does not recompute is an edit; a chain that recomputes but disagrees with a
 * signed checkpoint was rewritten with its hashes recomputed; a chain shorter
 * than a signed checkpoint lost its tail.
 */
export class ChainVerifier {
  private prev: string;
  private expected: number;
  private next = 0;
  private lastMatched: TrustedCheckpoint | undefined;
  /** Entries that verified. */
  entries = 0;
  /** Checkpoints the chain matched. */
  matched = 0;
  problem: AuditProblem | undefined;

  /**
   * `start`: where the walk begins (a trusted checkpoint, or where another range ends); `matchedBefore`:
   * the last checkpoint at or before it, which names where a rewrite detected later may begin.
   */
  constructor(
    private readonly checkpoints: readonly TrustedCheckpoint[] = [],
    start: { seq: number; hash: string } = { seq: 0, hash: GENESIS_HASH },
    matchedBefore?: TrustedCheckpoint,
  ) {
    this.prev = start.hash;
    this.expected = start.seq + 1;
    this.lastMatched = matchedBefore;
    while ((checkpoints[this.next]?.size ?? Number.POSITIVE_INFINITY) <= start.seq) this.next += 1;
  }

  get headSeq(): number {
    return this.expected - 1;
  }

  get headHash(): string {
    return this.prev;
  }

  get latestMatched(): TrustedCheckpoint | undefined {
    return this.lastMatched;
  }

  /** Takes the next entry; false once the chain is broken (the caller stops feeding). */
  push(e: StoredAuditEntry): boolean {
    if (this.problem) return false;
    const seq = e.seq;
    if (seq !== this.expected) {
      return seq > this.expected
        ? this.fail(this.expected, 'deleted', `entry ${this.expected} is missing (next present is ${seq})`)
        : this.fail(this.expected, 'reordered', `entry ${seq} appears where entry ${this.expected} belongs (entries reordered)`);
    }
    if (e.prev_hash !== this.prev) {
      return this.fail(seq, 'reordered', 'prev_hash does not match the previous entry (entries reordered or replaced)');
    }
    const hash = auditEntryHash(this.prev, e);
    if (hash !== e.hash) return this.fail(seq, 'edited', 'contents do not match the entry hash (entry was edited)');
    this.prev = hash;
    this.expected = seq + 1;
    this.entries += 1;
    const cp = this.checkpoints[this.next];
    if (cp !== undefined && cp.size === seq) {
      this.next += 1;
      if (cp.headHash !== hash) {
        const from = (this.lastMatched?.size ?? 0) + 1;
        return this.fail(
          from,
          'rewritten',
          `the chain at entry ${seq} does not match the checkpoint signed for size ${seq} (key ${cp.kid}): ` +
            `an entry in ${from}..${seq} was rewritten and the hashes after it recomputed`,
        );
      }
      this.lastMatched = cp;
      this.matched += 1;
    }
    return true;
  }

  /** Call after the last entry: a signed checkpoint beyond the end means the tail was cut off. */
  finish(): AuditProblem | undefined {
    if (this.problem) return this.problem;
    const cp = this.checkpoints[this.next];
    if (cp !== undefined) {
      const end = this.expected - 1;
      this.fail(
        this.expected,
        'truncated',
        `the chain ends at entry ${end} but a checkpoint signed by key ${cp.kid} covers ${cp.size} entries: ` +
          `entries ${this.expected}..${cp.size} are missing (tail truncated)`,
      );
    }
    return this.problem;
  }

  /** Records a problem found outside the walk (a malformed line in an export). */
  fail(seq: number, kind: AuditProblemKind, problem: string): false {
    this.problem ??= { seq, kind, problem };
    return false;
  }
}
