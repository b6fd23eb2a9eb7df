import { CompiledQuery, type Kysely } from 'kysely';
import { auditEntryHash } from '../domain/audit/chain.js';
import type { StoredEvent } from '../events/types.js';
import type { Capabilities } from './connect.js';
import { PreparedQuery } from './prepared.js';
import type { SerializedAudit, SerializedEvent } from './serialize-entries.js';
import type { DB } from './types.js';

const CHUNK = 32;

const AUDIT_COLUMNS = ['seq', 'ts', 'actor_type', 'actor_id', 'event', 'action_id', 'data', 'prev_hash', 'hash'] as const;
const EVENT_COLUMNS = ['seq', 'ts', 'type', 'action_id', 'agent_id', 'session_id', 'root_id', 'data'] as const;

type Table = 'audit_log' | 'events';

/** Multi-row inserts compiled once per (table, row count), for SQLite (PostgreSQL uses appendStatement). */
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

const lockHead = new Map<string, PreparedQuery<Record<string, never>, { audit_seq: number; audit_hash: string; event_seq: number }>>();
const updateHead = new PreparedQuery<{ audit_seq: number; audit_hash: string; event_seq: number }, unknown>((db, p) =>
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

/**
 * Appends a committed batch's audit entries (hash-chained) and events (the
 * outbox) while holding the chain head, so sequence numbers follow commit
 * order across every process writing to the database. Entries arrive serialized (serialize-entries.ts),
 * so nothing here can fail because of one operation's data.
 */
export async function appendLogs(
  conn: Kysely<DB>,
  caps: Capabilities,
  now: number,
  audits: SerializedAudit[],
  events: SerializedEvent[],
): Promise<StoredEvent[]> {
  if (audits.length === 0 && events.length === 0) return [];
  const head = await headQuery(caps).executeTakeFirst(conn, {});
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
      action_id: a.actionId,
      data: a.data,
    };
    const hash = auditEntryHash(prev, fields);
    const row = { ...fields, prev_hash: prev, hash };
    prev = hash;
    return row;
  });

  let eventSeq = Number(head.event_seq);
  const stored: StoredEvent[] = events.map(({ event }) => ({ seq: ++eventSeq, ts: now, ...event }));
  const eventRows = stored.map((e, i) => ({
    seq: e.seq,
    ts: e.ts,
    type: e.type,
    action_id: e.actionId,
    agent_id: e.agentId,
    session_id: e.sessionId,
    root_id: e.rootId,
    data: (events[i] as SerializedEvent).text,
  }));

  const newHead = { audit_seq: seq, audit_hash: prev, event_seq: eventSeq };
  if (caps.oneStatementAppend) {
    const notify = eventRows.length > 0 ? caps.notify : null;
    await conn.executeQuery(appendStatement(auditRows, eventRows, newHead, notify));
    return stored;
  }
  await insertRows(conn, 'audit_log', AUDIT_COLUMNS, auditRows);
  await insertRows(conn, 'events', EVENT_COLUMNS, eventRows);
  await updateHead.execute(conn, newHead);
  return stored;
}

const sqlType = (c: string) => (c === 'seq' || c === 'ts' ? 'int8' : 'text');
const fromArrays = (table: Table, columns: readonly string[], first: number) =>
  `insert into ${table} (${columns.map((c) => `"${c}"`).join(', ')}) select * from unnest(${columns
    .map((c, i) => `$${first + i}::${sqlType(c)}[]`)
    .join(', ')})`;

/**
 * Both inserts as data-modifying WITH clauses (always run to completion) and the head update, in one
 * statement. Each column travels as one array parameter, so every batch size shares one text: one
 * prepared statement per connection, however many rows.
 */
const APPEND_TEXT = `with a as (${fromArrays('audit_log', AUDIT_COLUMNS, 1)}), e as (${fromArrays('events', EVENT_COLUMNS, 1 + AUDIT_COLUMNS.length)}) update chain_head set audit_seq = $${1 + AUDIT_COLUMNS.length + EVENT_COLUMNS.length}, audit_hash = $${2 + AUDIT_COLUMNS.length + EVENT_COLUMNS.length}, event_seq = $${3 + AUDIT_COLUMNS.length + EVENT_COLUMNS.length} where id = 1`;

/**
 * The same, telling other gateways the new event head ("<seq> <origin>", the origin naming the writing process). RETURNING runs with the update (a SELECT in a
 * WITH that nothing reads would not), so the notify rides on the same round trip; PostgreSQL queues it
 * and delivers it only when the transaction commits, so no listener hears of an uncommitted event.
 */
const APPEND_NOTIFY_TEXT = `${APPEND_TEXT} returning pg_notify($${4 + AUDIT_COLUMNS.length + EVENT_COLUMNS.length}, event_seq::text || ' ' || $${5 + AUDIT_COLUMNS.length + EVENT_COLUMNS.length})`;

function appendStatement(
  audits: Record<string, unknown>[],
  events: Record<string, unknown>[],
  head: { audit_seq: number; audit_hash: string; event_seq: number },
  notify: { channel: string; origin: string } | null,
): CompiledQuery {
  const columnsOf = (columns: readonly string[], rows: Record<string, unknown>[]) => columns.map((c) => rows.map((r) => r[c]));
  const parameters = [
    ...columnsOf(AUDIT_COLUMNS, audits),
    ...columnsOf(EVENT_COLUMNS, events),
    head.audit_seq,
    head.audit_hash,
    head.event_seq,
  ];
  if (notify === null) return CompiledQuery.raw(APPEND_TEXT, parameters);
  return CompiledQuery.raw(APPEND_NOTIFY_TEXT, [...parameters, notify.channel, notify.origin]);
}
