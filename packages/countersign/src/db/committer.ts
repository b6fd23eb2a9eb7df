import { type Kysely, sql } from 'kysely';
import type { Logger } from 'pino';
import { canonicalJson } from '../lib/canonical.js';
import type { Clock } from '../lib/clock.js';
import { CsError, isCsError } from '../lib/errors.js';
import { auditEntryHash } from '../domain/audit/chain.js';
import type { Capabilities, Database } from './connect.js';
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

export interface EventInput {
  type: string;
  actionId: string | null;
  agentId: string | null;
  sessionId: string | null;
  data: Record<string, unknown>;
}

export interface StoredEvent {
  seq: number;
  ts: number;
  type: string;
  actionId: string | null;
  agentId: string | null;
  sessionId: string | null;
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
}

export type TxOp<T> = (tx: Tx) => Promise<T>;

interface Pending {
  op: TxOp<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

interface Done {
  item: Pending;
  ok: boolean;
  value?: unknown;
  error?: unknown;
  audits: AuditInput[];
  events: EventInput[];
}

const MAX_BATCH = 256;
const INSERT_CHUNK = 50;
/** Attempts for a single operation that keeps losing deadlocks / serialization races to other processes. */
const MAX_ATTEMPTS = 3;

/**
 * Group commit. Operations queued while a transaction is in flight run together
 * in the next one, each inside its own savepoint, so one operation's failure
 * (a lost race, say) never affects another's. All of a batch's audit entries
 * and events are appended at the end while holding the chain head, so their
 * sequence numbers follow commit order on every node, and the fsync and the
 * head lock are paid once per batch instead of once per request.
 */
export class Committer {
  private queue: Pending[] = [];
  private running = false;
  private idle: Promise<void> = Promise.resolve();
  private markIdle: (() => void) | undefined;

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly onCommitted: (events: StoredEvent[]) => void,
  ) {}

  run<T>(op: TxOp<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ op: op as TxOp<unknown>, resolve: resolve as (v: unknown) => void, reject });
      if (!this.running) {
        this.running = true;
        this.idle = new Promise((r) => {
          this.markIdle = r;
        });
        setImmediate(() => void this.drain());
      }
    });
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

  private async runBatch(batch: Pending[], attempt = 1): Promise<void> {
    let done: Done[];
    let events: StoredEvent[];
    try {
      ({ done, events } = await this.transact(batch));
    } catch (error) {
      if (batch.length > 1 && isRetryable(error)) {
        // A deadlock or serialization failure with another process: retry one by one.
        for (const item of batch) await this.runBatch([item]);
        return;
      }
      if (isRetryable(error) && attempt < MAX_ATTEMPTS) {
        // Nothing was committed; run it again (a lost race then reads as the op's own conflict, not a 500).
        await this.runBatch(batch, attempt + 1);
        return;
      }
      const wrapped = isCsError(error) ? error : internalError(error, this.logger);
      for (const item of batch) item.reject(wrapped);
      return;
    }
    for (const d of done) {
      if (d.ok) d.item.resolve(d.value);
      else d.item.reject(isCsError(d.error) ? d.error : internalError(d.error, this.logger));
    }
    if (events.length > 0) {
      try {
        this.onCommitted(events);
      } catch (e) {
        this.logger.error({ err: e }, 'event subscriber failed');
      }
    }
  }

  private transact(batch: Pending[]): Promise<{ done: Done[]; events: StoredEvent[] }> {
    const { caps } = this.db;
    return this.db.write.connection().execute(async (conn) => {
      await sql.raw(caps.beginWrite).execute(conn);
      try {
        const single = batch.length === 1;
        const done: Done[] = [];
        for (const item of batch) {
          const audits: AuditInput[] = [];
          const evs: EventInput[] = [];
          const tx: Tx = {
            db: conn,
            caps,
            now: this.clock.now(),
            audit: (a) => audits.push(a),
            emit: (e) => evs.push(e),
          };
          if (single) {
            // No savepoint needed: a failure rolls back the whole (one-operation) transaction.
            const value = await item.op(tx);
            done.push({ item, ok: true, value, audits, events: evs });
            continue;
          }
          await sql.raw('savepoint cs_op').execute(conn);
          try {
            const value = await item.op(tx);
            await sql.raw('release savepoint cs_op').execute(conn);
            done.push({ item, ok: true, value, audits, events: evs });
          } catch (error) {
            // A deadlock with another process is not this op's failure: abort the batch so
            // runBatch retries it op by op (the other ops' row locks are part of the cycle).
            if (isRetryable(error)) throw error;
            await sql.raw('rollback to savepoint cs_op').execute(conn);
            await sql.raw('release savepoint cs_op').execute(conn);
            done.push({ item, ok: false, error, audits: [], events: [] });
          }
        }
        const events = await appendLogs(conn, caps, this.clock.now(), done);
        await sql.raw('commit').execute(conn);
        return { done, events };
      } catch (error) {
        await sql.raw('rollback').execute(conn).catch(() => undefined);
        throw error;
      }
    });
  }
}

async function appendLogs(conn: Kysely<DB>, caps: Capabilities, now: number, done: Done[]): Promise<StoredEvent[]> {
  const audits = done.flatMap((d) => d.audits);
  const events = done.flatMap((d) => d.events);
  if (audits.length === 0 && events.length === 0) return [];
  const head = await sql<{ audit_seq: number; audit_hash: string; event_seq: number }>`select audit_seq, audit_hash, event_seq from chain_head where id = 1${sql.raw(caps.lockSuffix)}`
    .execute(conn)
    .then((r) => r.rows[0]);
  if (!head) throw new Error('chain_head row is missing; the database was not migrated');

  let seq = Number(head.audit_seq);
  let prev = head.audit_hash;
  const auditRows = audits.map((a) => {
    seq += 1;
    const fields = {
      seq,
      ts: now,
      actor_type: a.actor.type,
      actor_id: a.actor.id,
      event: a.event,
      action_id: a.actionId ?? null,
      data: canonicalJson(a.data),
    };
    const hash = auditEntryHash(prev, fields);
    const row = { ...fields, prev_hash: prev, hash };
    prev = hash;
    return row;
  });
  let eventSeq = Number(head.event_seq);
  const stored: StoredEvent[] = events.map((e) => ({
    seq: ++eventSeq,
    ts: now,
    type: e.type,
    actionId: e.actionId,
    agentId: e.agentId,
    sessionId: e.sessionId,
    data: e.data,
  }));
  for (let i = 0; i < auditRows.length; i += INSERT_CHUNK) {
    await conn.insertInto('audit_log').values(auditRows.slice(i, i + INSERT_CHUNK)).execute();
  }
  for (let i = 0; i < stored.length; i += INSERT_CHUNK) {
    await conn
      .insertInto('events')
      .values(
        stored.slice(i, i + INSERT_CHUNK).map((e) => ({
          seq: e.seq,
          ts: e.ts,
          type: e.type,
          action_id: e.actionId,
          agent_id: e.agentId,
          session_id: e.sessionId,
          data: JSON.stringify(e.data),
        })),
      )
      .execute();
  }
  await conn.updateTable('chain_head').set({ audit_seq: seq, audit_hash: prev, event_seq: eventSeq }).where('id', '=', 1).execute();
  return stored;
}

function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return code === '40P01' || code === '40001' || code === 'SQLITE_BUSY';
}

function internalError(error: unknown, logger: Logger): CsError {
  logger.error({ err: error }, 'transaction failed');
  const code = (error as { code?: unknown })?.code;
  if (code === 'SQLITE_BUSY' || code === 'ECONNREFUSED' || code === '57P01') {
    return new CsError('unavailable', 'the database is busy or unreachable; retry shortly', { cause: error });
  }
  return new CsError('internal', 'internal error while writing; nothing was changed', { cause: error });
}
