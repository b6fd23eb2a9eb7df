import { type Kysely, sql } from 'kysely';
import type { Logger } from 'pino';
import type { EventInput, StoredEvent } from '../events/types.js';
import type { Clock } from '../lib/clock.js';
import { CsError, isCsError } from '../lib/errors.js';
import { appendLogs, type ChainHead } from './append-logs.js';
import type { Capabilities, Database } from './connect.js';
import { type EpochCondition, StalePrincipal } from './epoch-condition.js';
import { type SerializedAudit, type SerializedEvent, serializeEntries } from './serialize-entries.js';
import type { Tally } from './stats-rollup/tallies.js';
import { storageFault, storageUnavailable } from './storage-errors.js';
import type { DB } from './types.js';

export type ActorType = 'user' | 'agent' | 'system' | 'admin';

export interface Actor {
  type: ActorType;
  id: string | null;
}

export interface AuditInput {
  actor: Actor;
  event: string;
  actionId?: string | null;
  data: Record<string, unknown>;
}

/** What a domain operation sees inside its transaction. */
export interface Tx {
  readonly db: Kysely<DB>;
  readonly caps: Capabilities;
  /** The operation's time, read once so every row it writes agrees. */
  readonly now: number;
  audit(entry: AuditInput): void;
  emit(event: EventInput): void;
  /** A change to the dashboard's counts, written with this transaction (db/stats-rollup/tallies.ts). */
  tally(t: Tally): void;
  /**
   * Marks that this operation moved the identity epoch (bumpIdentityEpoch, domain/identities/epoch.ts, is the one
   * caller). Such an operation must also write an audit entry, or it fails: that append is what lets the appending
   * statement read the epoch at commit without a lock (EPOCH in db/append-logs.ts).
   */
  identityEpochMoved(): void;
}

export type TxOp<T> = (tx: Tx) => Promise<T>;

export interface RunOptions {
  /** A denial: runs ahead of the ordinary operations queued with it. */
  urgent?: boolean;
  /** Commit only while the identity epoch stands where this condition says (EpochCondition). */
  epoch?: EpochCondition;
}

/** What writers need of the committer: `Committer` itself, or one holding every operation to an EpochCondition. */
export interface CommitQueue {
  run<T>(op: TxOp<T>, opts?: RunOptions): Promise<T>;
  flush(): Promise<void>;
  /** The same queue with every operation held to `condition` (the routes whose key is checked at commit). */
  holding(condition: EpochCondition): CommitQueue;
}

interface Pending {
  op: TxOp<unknown>;
  urgent: boolean;
  epoch: EpochCondition | undefined;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

const MAX_BATCH = 256;
/** Attempts for a single operation that keeps losing deadlocks / serialization races to other processes. */
const MAX_ATTEMPTS = 3;

/**
 * Group commit. Operations queued while a transaction is in flight run together
 * in the next one; one operation's failure (a lost race, say) rolls the batch
 * back and the others run again without it (see runBatch). All of a batch's audit entries
 * and events are appended at the end while holding the chain head, so their
 * sequence numbers follow commit order on every node, and the fsync and the
 * head lock are paid once per batch instead of once per request. Each op's entries are
 * serialized as soon as it returns, inside its own error path, so an entry that cannot be
 * written fails that op like any other op failure, never the batch's shared append.
 */
export class Committer implements CommitQueue {
  private queue: Pending[] = [];
  private running = false;
  private idle: Promise<void> = Promise.resolve();
  private markIdle: (() => void) | undefined;
  /** The chain head as this committer's last transaction left it: the next append's guess (append-logs.ts). */
  private head: ChainHead | undefined;

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly onCommitted: (events: StoredEvent[]) => void,
  ) {}

  /**
   * Queues an operation for the next group commit. An `urgent` one (a denial)
   * runs ahead of the ordinary ones queued with it, which is how a deny and an
   * approve that arrive together resolve: denial wins ties.
   */
  run<T>(op: TxOp<T>, opts: RunOptions = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const item: Pending = {
        op: op as TxOp<unknown>,
        urgent: opts.urgent === true,
        epoch: opts.epoch,
        resolve: resolve as (v: unknown) => void,
        reject,
      };
      if (item.urgent) {
        const at = this.queue.findIndex((p) => !p.urgent);
        this.queue.splice(at === -1 ? this.queue.length : at, 0, item);
      } else {
        this.queue.push(item);
      }
      if (!this.running) {
        this.running = true;
        this.idle = new Promise((r) => {
          this.markIdle = r;
        });
        setImmediate(() => void this.drain());
      }
    });
  }

  holding(condition: EpochCondition): CommitQueue {
    return {
      run: (op, opts = {}) => this.run(op, { ...opts, epoch: condition }),
      flush: () => this.flush(),
      holding: (other) => this.holding(other),
    };
  }

  /** Resolves once every queued operation has settled. */
  async flush(): Promise<void> {
    await this.idle;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_BATCH);
        await this.runBatch(batch);
      }
    } finally {
      this.running = false;
      this.markIdle?.();
    }
  }

  /**
   * Runs a batch as one transaction with no per-op savepoints (each would cost
   * two more round trips per op on PostgreSQL). If an op throws, the whole
   * attempt is rolled back, that op gets its error, and the others run again
   * without it. After two such failures the rest run one by one, so a burst of
   * lost races cannot make a batch quadratic.
   */
  private async runBatch(batch: Pending[]): Promise<void> {
    let remaining = batch;
    let failures = 0;
    let attempt = 1;
    while (remaining.length > 0) {
      if (failures >= 2 && remaining.length > 1) {
        for (const item of remaining) await this.runBatch([item]);
        return;
      }
      let outcome: Outcome;
      try {
        outcome = await this.transact(remaining);
      } catch (error) {
        // Begin/commit/log append failed, or an op lost a deadlock to another process: nothing committed.
        if (isRetryable(error) && remaining.length > 1) {
          // The batch's own row locks are part of the cycle; retried whole it would deadlock again.
          for (const item of remaining) await this.runBatch([item]);
          return;
        }
        if (isRetryable(error) && attempt < MAX_ATTEMPTS) {
          attempt += 1;
          continue;
        }
        const wrapped = isCsError(error) ? error : internalError(error, this.logger);
        for (const item of remaining) item.reject(wrapped);
        return;
      }
      if (outcome.kind === 'stale') {
        // Rolled back: the stale operations fail (their requests authenticate again), the others run again.
        for (const i of outcome.indices) {
          const stale = remaining[i] as Pending;
          if (stale.epoch) stale.epoch.broken = true;
          stale.reject(new StalePrincipal());
        }
        remaining = remaining.filter((_, i) => !outcome.indices.includes(i));
        failures += 1;
        continue;
      }
      if (outcome.kind === 'op-failed') {
        const failed = remaining[outcome.index] as Pending;
        failed.reject(isCsError(outcome.error) ? outcome.error : internalError(outcome.error, this.logger));
        remaining = remaining.filter((_, i) => i !== outcome.index);
        failures += 1;
        continue;
      }
      remaining.forEach((item, i) => {
        if (item.epoch) item.epoch.proved = true;
        item.resolve(outcome.values[i]);
      });
      if (outcome.events.length > 0) {
        try {
          this.onCommitted(outcome.events);
        } catch (e) {
          this.logger.error({ err: e }, 'event subscriber failed');
        }
      }
      return;
    }
  }

  private transact(batch: Pending[]): Promise<Outcome> {
    const { caps } = this.db;
    return this.db.write.connection().execute(async (conn) => {
      await sql.raw(caps.beginWrite).execute(conn);
      try {
        const values: unknown[] = [];
        const audits: SerializedAudit[] = [];
        const emitted: SerializedEvent[] = [];
        const texts = new Map<object, string>();
        const tallies: Tally[] = [];
        for (let i = 0; i < batch.length; i++) {
          const item = batch[i] as Pending;
          const opAudits: AuditInput[] = [];
          const opEvents: EventInput[] = [];
          const opTallies: Tally[] = [];
          let movedEpoch = false;
          const tx: Tx = {
            db: conn,
            caps,
            now: this.clock.now(),
            audit: (a) => opAudits.push(a),
            emit: (e) => opEvents.push(e),
            tally: (t) => opTallies.push(t),
            identityEpochMoved: () => {
              movedEpoch = true;
            },
          };
          try {
            values.push(await item.op(tx));
            // The invariant the lock-free epoch read rests on (EPOCH in append-logs.ts): no epoch move without an append.
            if (movedEpoch && opAudits.length === 0)
              throw new Error('an operation moved the identity epoch without writing an audit entry');
            // Serialized inside this op's error path: an entry that cannot be written fails its op, not the batch.
            const serialized = serializeEntries(opAudits, opEvents, texts);
            audits.push(...serialized.audits);
            emitted.push(...serialized.events);
            tallies.push(...opTallies);
          } catch (error) {
            // A deadlock is not this op's fault: let runBatch retry the whole attempt. Nor is a lost
            // connection or a full disk, which fails the whole batch as `unavailable` (SQLite may already
            // have rolled back, so a rollback here would fail and hide the real error).
            if (isRetryable(error) || storageFault(error) !== null) throw error;
            await sql.raw('rollback').execute(conn);
            return { kind: 'op-failed', index: i, error } satisfies Outcome;
          }
        }
        // The log append also writes the batch's counts (summed, in key order: db/stats-rollup/tallies.ts).
        const held = batch.some((p) => p.epoch !== undefined);
        const entries = { audits, events: emitted, tallies };
        const appended = await appendLogs(conn, caps, this.clock.now(), entries, this.head, held);
        // An operation held to an epoch that moved (or that the append could not read) must not commit.
        const stale = held ? staleIndices(batch, appended.epoch) : [];
        if (stale.length > 0) {
          await sql.raw('rollback').execute(conn);
          return { kind: 'stale', indices: stale } satisfies Outcome;
        }
        await sql.raw('commit').execute(conn);
        // Only a committed head is a good guess; after a failed commit the guess stays as it was (a stale guess
        // costs one more round trip, never a wrong chain).
        if (appended.head) this.head = appended.head;
        return { kind: 'committed', values, events: appended.events } satisfies Outcome;
      } catch (error) {
        await sql
          .raw('rollback')
          .execute(conn)
          .catch(() => undefined);
        throw error;
      }
    });
  }
}

type Outcome =
  | { kind: 'committed'; values: unknown[]; events: StoredEvent[] }
  | { kind: 'op-failed'; index: number; error: unknown }
  | { kind: 'stale'; indices: number[] };

function staleIndices(batch: readonly Pending[], epochAtCommit: number | undefined): number[] {
  const stale: number[] = [];
  batch.forEach((p, i) => {
    if (p.epoch !== undefined && p.epoch.epoch !== epochAtCommit) stale.push(i);
  });
  return stale;
}

function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return code === '40P01' || code === '40001' || code === 'SQLITE_BUSY';
}

function internalError(error: unknown, logger: Logger): CsError {
  logger.error({ err: error }, 'transaction failed');
  return storageUnavailable(error) ?? new CsError('internal', 'internal error while writing; nothing was changed', { cause: error });
}
