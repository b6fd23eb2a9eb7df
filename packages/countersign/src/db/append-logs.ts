import { CompiledQuery, type Kysely } from 'kysely';
import { auditEntryHash } from '../domain/audit/chain.js';
import type { StoredEvent } from '../events/types.js';
import type { Capabilities } from './connect.js';
import { PreparedQuery } from './prepared.js';
import type { SerializedAudit, SerializedEvent } from './serialize-entries.js';
import { applyTallies, type RollupRow, rollupRows, type Tally } from './stats-rollup/tallies.js';
import type { DB } from './types.js';

const CHUNK = 32;

const AUDIT_COLUMNS = ['seq', 'ts', 'actor_type', 'actor_id', 'event', 'action_id', 'data', 'prev_hash', 'hash'] as const;
const EVENT_COLUMNS = ['seq', 'ts', 'type', 'action_id', 'agent_id', 'session_id', 'root_id', 'data'] as const;

type Table = 'audit_log' | 'events';

/** Multi-row inserts compiled once per (table, row count), for SQLite (PostgreSQL uses appendInOneStatement). */
const inserts = new Map<string, PreparedQuery<Record<string, unknown>, unknown>>();

function insertQuery(table: Table, columns: readonly string[], n: number): PreparedQuery<Record<string, unknown>, unknown> {
  const key = `${table}:${n}`;
  let q = inserts.get(key);
  if (!q) {
    q = new PreparedQuery<Record<string, unknown>, unknown>((db, p) =>
      db
        .insertInto(table)
        .values(Array.from({ length: n }, (_, i) => Object.fromEntries(columns.map((c) => [c, p(`${i}:${c}`)]))) as never),
    );
    inserts.set(key, q);
  }
  return q;
}

const names = new Map<string, string[]>();

async function insertRows(conn: Kysely<DB>, table: Table, columns: readonly string[], rows: Record<string, unknown>[]): Promise<void> {
  for (let start = 0; start < rows.length; start += CHUNK) {
    const chunk = rows.slice(start, start + CHUNK);
    const parameters: unknown[] = [];
    for (const row of chunk) for (const c of columns) parameters.push(row[c]);
    const key = `${table}:${chunk.length}`;
    let expected = names.get(key);
    if (!expected) {
      expected = chunk.flatMap((_, i) => columns.map((c) => `${i}:${c}`));
      names.set(key, expected);
    }
    await insertQuery(table, columns, chunk.length).executePositional(conn, parameters, expected);
  }
}

/** The chain head: the last audit entry (seq, hash) and the last event's seq. */
export interface ChainHead {
  audit_seq: number;
  audit_hash: string;
  event_seq: number;
}

const lockHead = new Map<string, PreparedQuery<Record<string, never>, ChainHead>>();
const updateHead = new PreparedQuery<ChainHead, unknown>((db, p) =>
  db
    .updateTable('chain_head')
    .set({ audit_seq: p('audit_seq'), audit_hash: p('audit_hash'), event_seq: p('event_seq') })
    .where('id', '=', 1),
);

function headQuery(caps: Capabilities) {
  let q = lockHead.get(caps.lockSuffix);
  if (!q) {
    q = new PreparedQuery((db) => {
      const base = db.selectFrom('chain_head').select(['audit_seq', 'audit_hash', 'event_seq']).where('id', '=', 1);
      return caps.lockSuffix ? base.forUpdate() : base;
    });
    lockHead.set(caps.lockSuffix, q);
  }
  return q;
}

async function readHead(conn: Kysely<DB>, caps: Capabilities): Promise<ChainHead> {
  const head = await headQuery(caps).executeTakeFirst(conn, {});
  if (!head) throw new Error('chain_head row is missing; the database was not migrated');
  return { audit_seq: Number(head.audit_seq), audit_hash: head.audit_hash, event_seq: Number(head.event_seq) };
}

export interface Entries {
  audits: SerializedAudit[];
  events: SerializedEvent[];
  /** The dashboard's counts (db/stats-rollup/tallies.ts), written with the entries. */
  tallies: readonly Tally[];
}

export interface Appended {
  /** The batch's events, each stamped with the identity epoch at this commit (StoredEvent.epoch; see EPOCH below). */
  events: StoredEvent[];
  /** The identity epoch at this commit (EPOCH below), when read: on every PostgreSQL append, else if events or `wantEpoch`. */
  epoch: number | undefined;
  /** The head after this append (null when there was nothing to append): the next append's guess. */
  head: ChainHead | null;
}

/**
 * Appends a committed batch's audit entries (hash-chained) and events (the
 * outbox) while holding the chain head, so sequence numbers follow commit
 * order across every process writing to the database. Entries arrive serialized (serialize-entries.ts),
 * so nothing here can fail because of one operation's data.
 *
 * `guess` is the head this process last committed. Where the append is one statement
 * (`oneStatementAppend`), the statement itself takes the head, only if it is still `guess`: one round trip
 * for the lock, both logs, the counts and the notify. If another process appended since, it changes
 * nothing, and the head is locked and read and the statement sent again. Elsewhere the head is read
 * (SQLite's writer already holds the database) and the rows follow.
 * `wantEpoch` (an operation is held to an epoch: db/epoch-condition.ts) reads the epoch where nothing else
 * would; with nothing appended that is a plain read in the transaction, as good as the read before a request.
 */
export async function appendLogs(
  conn: Kysely<DB>,
  caps: Capabilities,
  now: number,
  entries: Entries,
  guess: ChainHead | undefined,
  wantEpoch = false,
): Promise<Appended> {
  if (entries.audits.length === 0 && entries.events.length === 0) {
    await applyTallies(conn, entries.tallies);
    return { events: [], head: null, epoch: wantEpoch ? await epochInTransaction(conn) : undefined };
  }
  if (!caps.oneStatementAppend) {
    // The counts first, then the head (see applyTallies).
    await applyTallies(conn, entries.tallies);
    const rows = chained(await readHead(conn, caps), now, entries, caps);
    await insertRows(conn, 'audit_log', AUDIT_COLUMNS, rows.audit);
    await insertRows(conn, 'events', EVENT_COLUMNS, rows.event);
    await updateHead.execute(conn, rows.head);
    // SQLite: the writer holds the database from BEGIN IMMEDIATE to COMMIT (another process's writer waits),
    // so the epoch read here is the epoch at commit, this batch's own changes included.
    const epoch = rows.stored.length > 0 || wantEpoch ? await epochInTransaction(conn) : undefined;
    if (epoch !== undefined) stamp(rows.stored, epoch);
    return { events: rows.stored, head: rows.head, epoch };
  }
  const rollup = rollupRows(entries.tallies);
  const notify = entries.events.length > 0 ? caps.notify : null;
  if (guess !== undefined) {
    const rows = chained(guess, now, entries, caps);
    const epoch = await appendInOneStatement(conn, guess, rows, rollup, notify);
    if (epoch !== undefined) return { events: stamp(rows.stored, epoch), head: rows.head, epoch: Number(epoch) };
  }
  const head = await readHead(conn, caps);
  const rows = chained(head, now, entries, caps);
  const epoch = await appendInOneStatement(conn, head, rows, rollup, notify);
  if (epoch === undefined) throw new Error('the chain head moved while this transaction held it');
  return { events: stamp(rows.stored, epoch), head: rows.head, epoch: Number(epoch) };
}

// The identity epoch as the appending transaction sees it (SQLite; PostgreSQL reads it in the append: EPOCH).
const epochNow = new PreparedQuery<Record<string, never>, { epoch: number | string }>((db) =>
  db.selectFrom('identity_epoch').select('epoch').where('id', '=', 1),
);

/** A missing row reads as 0, as readIdentityEpoch reads it; PostgreSQL returns bigint as a string. */
async function epochInTransaction(conn: Kysely<DB>): Promise<number> {
  return Number((await epochNow.executeTakeFirst(conn, {}))?.epoch ?? 0);
}

/**
 * Stamps freshly built events with the epoch at their commit (PostgreSQL returns bigint as a string; a missing
 * row reads as 0, as readIdentityEpoch reads it).
 */
function stamp(events: StoredEvent[], epoch: number | string): StoredEvent[] {
  const n = Number(epoch);
  for (const e of events) e.epoch = n;
  return events;
}

interface ChainedRows {
  audit: Record<string, unknown>[];
  event: Record<string, unknown>[];
  stored: StoredEvent[];
  head: ChainHead;
}

/** The batch's rows numbered and hash-chained after `head`; the hashes as the database stores them (caps.storedHash). */
function chained(head: ChainHead, now: number, { audits, events }: Entries, caps: Capabilities): ChainedRows {
  let seq = head.audit_seq;
  let prev = head.audit_hash;
  const audit = audits.map((a) => {
    seq += 1;
    const fields = {
      seq,
      ts: now,
      actor_type: a.actor.type,
      actor_id: a.actor.id,
      event: a.event,
      action_id: a.actionId,
      data: a.data,
    };
    const hash = auditEntryHash(prev, fields);
    const row = { ...fields, prev_hash: caps.storedHash(prev), hash: caps.storedHash(hash) };
    prev = hash;
    return row;
  });

  let eventSeq = head.event_seq;
  const stored: StoredEvent[] = events.map(({ event }) => ({ seq: ++eventSeq, ts: now, ...event }));
  const event = stored.map((e, i) => ({
    seq: e.seq,
    ts: e.ts,
    type: e.type,
    action_id: e.actionId,
    agent_id: e.agentId,
    session_id: e.sessionId,
    root_id: e.rootId,
    data: (events[i] as SerializedEvent).text,
  }));
  return { audit, event, stored, head: { audit_seq: seq, audit_hash: prev, event_seq: eventSeq } };
}

const ROLLUP_COLUMNS = ['kind', 'grain', 'start', 'key', 'n'] as const;
// The audit hashes are bytea on PostgreSQL (capabilities.binaryHashes, migration 027).
const SQL_TYPES: Record<string, string> = {
  seq: 'int8',
  ts: 'int8',
  grain: 'int8',
  start: 'int8',
  n: 'int8',
  prev_hash: 'bytea',
  hash: 'bytea',
};
const sqlType = (c: string) => SQL_TYPES[c] ?? 'text';

/** Parameter numbers, in the order appendInOneStatement passes them. */
const AT = (() => {
  let n = 1;
  const take = (k: number) => {
    const first = n;
    n += k;
    return first;
  };
  return {
    audit: take(AUDIT_COLUMNS.length),
    event: take(EVENT_COLUMNS.length),
    rollup: take(ROLLUP_COLUMNS.length),
    newHead: take(3),
    oldHead: take(3),
    notify: take(2),
  };
})();

/** Rows from one array parameter per column, only once the head is taken (`h` returned its row). */
const fromArrays = (table: string, columns: readonly string[], first: number) =>
  `insert into ${table} (${columns.map((c) => `"${c}"`).join(', ')}) select * from unnest(${columns
    .map((c, i) => `$${first + i}::${sqlType(c)}[]`)
    .join(', ')}) where exists (select 1 from h)`;

/**
 * The head update (a compare-and-set on the head the rows were chained after, taking its row lock until
 * commit), both inserts and the rollup upsert as data-modifying WITH clauses (always run to completion,
 * after the update they read), in one statement. Each column travels as one array parameter, so every batch
 * size shares one text: one prepared statement per connection, however many rows. The rollup rows are
 * taken only while the head is held, in key order, so committers never wait on each other for them.
 */
const APPEND_TEXT = `with h as (update chain_head set audit_seq = $${AT.newHead}, audit_hash = $${AT.newHead + 1}, event_seq = $${AT.newHead + 2} where id = 1 and audit_seq = $${AT.oldHead} and audit_hash = $${AT.oldHead + 1} and event_seq = $${AT.oldHead + 2} returning event_seq), a as (${fromArrays('audit_log', AUDIT_COLUMNS, AT.audit)}), e as (${fromArrays('events', EVENT_COLUMNS, AT.event)}), r as (${fromArrays('stats_rollup', ROLLUP_COLUMNS, AT.rollup)} on conflict (kind, grain, start, key) do update set n = stats_rollup.n + excluded.n)`;
/**
 * The identity epoch at this commit, read by the appending statement itself with no lock: every identity
 * change committed before this transaction commits is counted in it, so a held request verified at it may
 * have the batch's events without reading the epoch again (StoredEvent.epoch, IdentityWatch.covers).
 *
 * Why no lock is needed: every transaction that moves the epoch also appends to the audit chain (the committer
 * refuses one that does not: db/committer.ts, `identityEpochMoved`), so it updates chain_head, which this
 * statement compare-and-sets. When the compare-and-set matches the guessed head, every transaction that wrote
 * the head up to that one had committed before this statement began: the guess is what this process committed
 * last, or what a locked read earlier in this transaction returned, and each head writer held the row until it
 * committed. This statement's snapshot therefore sees every epoch they moved. A change that commits after the
 * snapshot was taken wrote the head too: before this update reached the row (then the newest row is no longer
 * the guess, the re-checked compare-and-set fails, and the append is sent again after a locked read, with a new
 * snapshot), or after this transaction's commit (it waits on the head's row lock), which orders it after this
 * decision. The batch's own changes are this transaction's writes, seen too. A `FOR SHARE` on identity_epoch
 * would say the same at the price of a row lock (WAL, multixacts) per commit, and would deadlock with a change
 * that holds the epoch's row while it waits for the head.
 */
const EPOCH = '(select epoch from identity_epoch where id = 1) as identity_epoch';
const APPEND_SILENT_TEXT = `${APPEND_TEXT} select ${EPOCH} from h`;
/**
 * The same, telling other gateways the new event head ("<seq> <origin>", the origin naming the writing
 * process) on the same round trip; PostgreSQL queues the notify and delivers it only when the transaction
 * commits, so no listener hears of an uncommitted event.
 */
const APPEND_NOTIFY_TEXT = `${APPEND_TEXT} select pg_notify($${AT.notify}, event_seq::text || ' ' || $${AT.notify + 1}), ${EPOCH} from h`;

/** Sends the one appending statement: the identity epoch at commit (EPOCH), or undefined (nothing written) when the head is no longer `after`. */
async function appendInOneStatement(
  conn: Kysely<DB>,
  after: ChainHead,
  rows: ChainedRows,
  rollup: readonly RollupRow[],
  notify: { channel: string; origin: string } | null,
): Promise<number | string | undefined> {
  const columnsOf = (columns: readonly string[], list: readonly object[]) =>
    columns.map((c) => list.map((r) => (r as Record<string, unknown>)[c]));
  const parameters = [
    ...columnsOf(AUDIT_COLUMNS, rows.audit),
    ...columnsOf(EVENT_COLUMNS, rows.event),
    ...columnsOf(ROLLUP_COLUMNS, rollup),
    rows.head.audit_seq,
    rows.head.audit_hash,
    rows.head.event_seq,
    after.audit_seq,
    after.audit_hash,
    after.event_seq,
  ];
  const query =
    notify === null
      ? CompiledQuery.raw(APPEND_SILENT_TEXT, parameters)
      : CompiledQuery.raw(APPEND_NOTIFY_TEXT, [...parameters, notify.channel, notify.origin]);
  const result = await conn.executeQuery<{ identity_epoch: number | string | null }>(query);
  const row = result.rows[0];
  return result.rows.length === 1 && row ? (row.identity_epoch ?? 0) : undefined;
}
