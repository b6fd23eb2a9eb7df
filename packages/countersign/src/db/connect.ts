import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, type PostgresPoolClient, type SqliteDatabase, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { CsError } from '../lib/errors.js';
import { type Listener, type ListenHandlers, listenPostgres, notifyChannel, silentListener } from './listen.js';
import { migrateToLatest } from './migrate.js';
import { ReadOnlySqliteDialect } from './sqlite-read-dialect.js';
import type { DB } from './types.js';

/**
 * Everything that differs between SQLite and PostgreSQL lives here, as
 * capabilities the rest of the code asks for; no query branches on the dialect.
 */
export interface Capabilities {
  readonly dialect: 'sqlite' | 'postgres';
  /** Statement that opens a writing transaction holding the write lock from its start. */
  readonly beginWrite: string;
  /** Suffix that row-locks the chain head until commit (SQLite already holds the database write lock). */
  readonly lockSuffix: string;
  /** Whether `FOR UPDATE SKIP LOCKED` is available for multi-process schedulers. */
  readonly skipLocked: boolean;
  /**
   * Whether a batch's audit entries, events and head update can go in one statement (PostgreSQL:
   * INSERTs inside WITH, rows from unnest()ed array parameters), one round trip instead of three.
   * SQLite is in-process, where a round trip costs nothing, and its WITH takes only SELECTs.
   */
  readonly oneStatementAppend: boolean;
  /**
   * Whether an INSERT can ride in a WITH clause of the UPDATE it belongs with (PostgreSQL), so a vote and the
   * compare-and-set it moves are one round trip (domain/actions/transition.ts). SQLite's WITH takes only SELECTs.
   */
  readonly insertsInWith: boolean;
  /**
   * Whether a subquery's rows can come back as one JSON array column (json_agg, PostgreSQL), so an action
   * row and its reviews are one round trip (domain/actions/transition.ts). SQLite reads them in-process.
   */
  readonly jsonAgg: boolean;
  /** Statement serialising migrations across processes inside the migration transaction ('' when the write lock suffices). */
  readonly migrationLock: string;
  /**
   * PostgreSQL: the channel a commit that appended events notifies (pg_notify, delivered on commit), so
   * other gateways on the database wake at once, and this process's tag in the payload, so its own
   * notifies are told apart (its committer publishes those). Null where no other node can listen
   * (SQLite) or when the notify is turned off (the benchmark measures its cost).
   */
  readonly notify: { channel: string; origin: string } | null;
  isUniqueViolation(error: unknown): boolean;
  /** DDL making a table refuse UPDATE and DELETE (an append-only log), as triggers. */
  appendOnly(table: string): string[];
  /**
   * DDL storing a table's hex SHA-256 columns as their 32 bytes (PostgreSQL bytea: 33 bytes a value instead
   * of 65 as hex text), or none where they stay hex text (SQLite). The PostgreSQL pool reads bytea back as
   * lowercase hex, so readers see the same strings either way; writers pass `storedHash(hex)`.
   */
  binaryHashes(table: string, columns: readonly string[]): string[];
  /**
   * The column type for bytes that are not hashes (a stored receipt: migration 029): PostgreSQL bytea, SQLite
   * blob. Written as a Buffer; read back as a Buffer on SQLite and as lowercase hex text on PostgreSQL (the
   * pool's bytea parser, below), which domain/receipts/stored-receipt.ts takes either way.
   */
  readonly bytesType: 'bytea' | 'blob';
  /** A hex hash as the parameter for a column binaryHashes converted: its bytes on PostgreSQL, the hex text on SQLite. */
  storedHash(hex: string): string | Buffer;
  /**
   * DDL rewriting a table, inside the migration's transaction, so that the bytes of columns just dropped leave
   * it: PostgreSQL's DROP COLUMN only hides them, in every row until the row's next update, so a table copy
   * (CLUSTER, in primary-key order, then unmarked); none on SQLite, whose DROP COLUMN rewrites the table.
   */
  rewriteTable(table: string, primaryKeyIndex: string): string[];
}

export interface Database {
  readonly caps: Capabilities;
  /** The connection(s) the committer writes through. */
  readonly write: Kysely<DB>;
  /** Reads: on SQLite a separate read-only connection so reads never queue behind a write batch. */
  readonly read: Kysely<DB>;
  /**
   * Hears other processes' commits: on PostgreSQL a dedicated LISTEN connection (not from the pool),
   * re-established when it drops; on SQLite (one node) nothing. The caller closes it.
   */
  listen(handlers: ListenHandlers): Listener;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  url: string;
  poolSize?: number;
  /** PostgreSQL: how long opening a connection may take before it fails (and the request answers 503). */
  connectTimeoutMs?: number;
  /** PostgreSQL only: schema to use (created if missing); lets tests run isolated in one database. */
  schema?: string;
  migrate?: boolean;
  /** PostgreSQL: notify other gateways when events are appended (default true; the benchmark turns it off to measure it). */
  notify?: boolean;
  /**
   * PostgreSQL: where the LISTEN connection goes (default `url`). LISTEN needs a session of its own, so
   * behind PgBouncer in transaction mode point this at PostgreSQL directly or at a session-mode pool.
   */
  listenUrl?: string;
}

const sqliteCaps: Capabilities = {
  dialect: 'sqlite',
  beginWrite: 'begin immediate',
  lockSuffix: '',
  skipLocked: false,
  oneStatementAppend: false,
  insertsInWith: false,
  jsonAgg: false,
  migrationLock: '',
  notify: null,
  isUniqueViolation: (e) => {
    const code = (e as { code?: unknown })?.code;
    return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
  },
  appendOnly: (t) =>
    ['update', 'delete'].map(
      (op) => `create trigger ${t}_no_${op} before ${op} on ${t} begin select raise(abort, '${t} is append-only: ${op} refused'); end`,
    ),
  binaryHashes: () => [],
  bytesType: 'blob',
  storedHash: (hex) => hex,
  rewriteTable: () => [],
};

const postgresCaps: Capabilities = {
  dialect: 'postgres',
  beginWrite: 'begin',
  lockSuffix: ' for update',
  skipLocked: true,
  oneStatementAppend: true,
  insertsInWith: true,
  jsonAgg: true,
  migrationLock: `select pg_advisory_xact_lock(hashtext('countersign:migrate:' || current_schema()))`,
  notify: null,
  isUniqueViolation: (e) => (e as { code?: unknown })?.code === '23505',
  appendOnly: (t) => [
    `create or replace function ${t}_append_only() returns trigger language plpgsql as $$ begin raise exception '${t} is append-only: % refused', tg_op; end $$`,
    `create trigger ${t}_no_change before update or delete on ${t} for each row execute function ${t}_append_only()`,
    `create trigger ${t}_no_truncate before truncate on ${t} for each statement execute function ${t}_append_only()`,
  ],
  binaryHashes: (t, columns) => [
    `alter table ${t} ${columns.map((c) => `alter column ${c} type bytea using decode(${c}, 'hex')`).join(', ')}`,
  ],
  bytesType: 'bytea',
  storedHash: (hex) => Buffer.from(hex, 'hex'),
  rewriteTable: (t, pkey) => [`cluster ${t} using ${pkey}`, `alter table ${t} set without cluster`],
};

export function isPostgresUrl(url: string): boolean {
  return url.startsWith('postgres://') || url.startsWith('postgresql://');
}

export async function openDatabase(opts: OpenDatabaseOptions): Promise<Database> {
  const { db } = isPostgresUrl(opts.url) ? await openPostgres(opts) : { db: openSqlite(opts.url) };
  if (opts.migrate !== false) {
    try {
      await migrateToLatest(db);
    } catch (e) {
      await db.close();
      throw e;
    }
  }
  return db;
}

export function sqlitePath(url: string): string {
  if (url.startsWith('sqlite://')) return url.slice('sqlite://'.length);
  if (url.startsWith('sqlite:')) return url.slice('sqlite:'.length);
  if (url.startsWith('file:')) return url.slice('file:'.length);
  if (/^[a-z]+:\/\//i.test(url))
    throw new CsError('invalid_request', `unsupported database url scheme in "${url}" (use sqlite:PATH or postgres://…)`);
  return url;
}

/** How much of the database file the reading connection maps (address space, not memory: untouched pages cost nothing). */
const READER_MMAP_BYTES = 256 * 1024 * 1024;

function openSqlite(url: string): Database {
  const path = sqlitePath(url);
  mkdirSync(dirname(path), { recursive: true });
  const writer = new BetterSqlite3(path);
  // WAL + FULL: an acknowledged commit is on disk before the HTTP answer leaves.
  writer.pragma('journal_mode = WAL');
  writer.pragma('synchronous = FULL');
  writer.pragma('busy_timeout = 5000');
  writer.pragma('foreign_keys = ON');
  const reader = new BetterSqlite3(path, { readonly: true });
  reader.pragma('busy_timeout = 5000');
  // Every commit by the writer empties the reader's page cache (the WAL moved), so each request's reads
  // started cold, copying pages back with read(). Mapped, the database file's pages are read in place: about
  // 7 % less server CPU per allowed proposal in alternated bench runs (433 → 401 µs). Writes never use the map.
  reader.pragma(`mmap_size = ${READER_MMAP_BYTES}`);
  const write = new Kysely<DB>({ dialect: new SqliteDialect({ database: withStatementCache(writer) }) });
  const read = new Kysely<DB>({ dialect: new ReadOnlySqliteDialect(withStatementCache(reader)) });
  return {
    caps: sqliteCaps,
    write,
    read,
    listen: () => silentListener,
    async close() {
      await read.destroy();
      await write.destroy();
    },
  };
}

const STATEMENT_CACHE_SIZE = 256;

/**
 * Kysely's SQLite driver prepares every query anew; preparing costs more than
 * running a small statement. Queries are built from a fixed set of shapes, so
 * caching prepared statements by SQL text removes that cost. Bounded, because
 * IN-lists of varying length produce new texts.
 */
function withStatementCache(db: BetterSqlite3.Database): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => {
      cache.clear();
      db.close();
    },
    prepare(text: string) {
      let stmt = cache.get(text);
      if (!stmt) {
        stmt = db.prepare(text);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
        cache.set(text, stmt);
      }
      return stmt as unknown as ReturnType<SqliteDatabase['prepare']>;
    },
  };
}

const INT8_OID = 20;
const BYTEA_OID = 17;
const parseBytea = pg.types.getTypeParser(BYTEA_OID, 'text') as (v: string) => Buffer;
/** A bytea value as lowercase hex, whatever bytea_output the server uses. */
const hexOfBytea = (v: string) => parseBytea(v).toString('hex');
const STATEMENT_NAMES_MAX = 1000;
const statementNames = new Map<string, string>();

/**
 * Sends parameterised queries as named (server-side prepared) statements, so
 * PostgreSQL parses and plans each query shape once per connection instead of
 * on every execution. Query texts come from a bounded set of builder shapes.
 */
function withNamedStatements(client: pg.PoolClient): PostgresPoolClient {
  return {
    query: ((text: unknown, values?: unknown[]) => {
      if (typeof text !== 'string' || !values || values.length === 0) return client.query(text as string, values);
      let name = statementNames.get(text);
      if (!name) {
        name = `cs_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
        if (statementNames.size < STATEMENT_NAMES_MAX) statementNames.set(text, name);
      }
      return client.query({ name, text, values });
    }) as unknown as PostgresPoolClient['query'],
    release: () => client.release(),
  };
}

/** Opens the pool and returns it with the schema its connections use (opts.schema, or the URL's search_path). */
async function openPostgres(opts: OpenDatabaseOptions): Promise<{ db: Database; schema: string }> {
  const schema = opts.schema;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(schema)) {
    throw new CsError('invalid_request', `invalid schema name "${schema}"`);
  }
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.poolSize ?? 10,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 5_000,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
    // Epoch-ms timestamps and sequence numbers are int8; they fit in a double. Bytea columns are hashes
    // (capabilities.binaryHashes), read back as the lowercase hex text SQLite stores, and stored receipts
    // (capabilities.bytesType), which stored-receipt.ts reads from that hex.
    types: {
      getTypeParser: ((oid: number, format?: string) =>
        oid === INT8_OID
          ? (v: string) => Number(v)
          : oid === BYTEA_OID
            ? hexOfBytea
            : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  });
  pool.on('error', () => {
    // An idle client's connection dropped; the pool replaces it on next use.
  });
  pool.on('connect', (client) => {
    // The pool listens for errors only while a client is idle. A checked-out client whose server goes
    // away between two statements (a transaction awaiting its next op) would otherwise emit an 'error'
    // nobody hears, which Node turns into an uncaught exception that kills the gateway. Heard here,
    // the client is left unqueryable: its next query fails (answered 503 unavailable) and the pool
    // discards it on release.
    client.on('error', () => undefined);
    // No JIT: it compiles a plan whose estimated cost passes jit_above_cost, as the inbox's count does at
    // 10k pending (its estimate counts every pending action), in 60-110 ms, more than the query then runs
    // (bench/oversight.ts). The gateway's queries are short and none gains from it. Sent before any other
    // query on this connection; if the server refuses it, queries still run, compiled as before.
    client.query('set jit = off').catch(() => undefined);
  });
  const db = new Kysely<DB>({
    dialect: new PostgresDialect({
      pool: {
        connect: async () => withNamedStatements(await pool.connect()),
        end: () => pool.end(),
      },
    }),
  });
  let current: string | null | undefined;
  try {
    if (schema) await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
    current = (await sql<{ s: string | null }>`select current_schema() as s`.execute(db)).rows[0]?.s;
  } catch (e) {
    await db.destroy();
    throw new CsError('unavailable', `cannot connect to PostgreSQL: ${(e as Error).message}`, { cause: e });
  }
  if (!current) {
    await db.destroy();
    throw new CsError(
      'invalid_request',
      'no schema on the PostgreSQL search_path exists; create it first or fix the search_path in the database url',
    );
  }
  const channel = notifyChannel(current);
  // One per opened database: a gateway's own notifies come back to its LISTEN connection too.
  const origin = randomBytes(6).toString('hex');
  const listenUrl = opts.listenUrl ?? opts.url;
  return {
    db: {
      caps: { ...postgresCaps, notify: opts.notify === false ? null : { channel, origin } },
      write: db,
      read: db,
      listen: (handlers) =>
        listenPostgres({ url: listenUrl, channel, origin, applicationName: `countersign listen ${current}`.slice(0, 63) }, handlers),
      close: () => db.destroy(),
    },
    schema: current,
  };
}
