import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { PG_URL, type World } from './helpers.js';

// Tampering is done for real: straight SQL on the stored rows through a separate connection, as someone
// with database access would, never through the gateway (see audit-tamper.test.ts).

export interface AuditRow {
  seq: number | string;
  ts: number | string;
  actor_type: string;
  actor_id: string | null;
  event: string;
  action_id: string | null;
  data: string;
  prev_hash: string;
  hash: string;
}

/** A direct connection to the world's database, outside the gateway; SQL parameters are written as `?` on both dialects. */
export interface RawDb {
  run(sql: string, params?: unknown[]): Promise<void>;
  all<T = AuditRow>(sql: string, params?: unknown[]): Promise<T[]>;
  /** What an attacker with owner rights does first: switch off the append-only triggers (log and checkpoints). */
  disableAppendOnly(): Promise<void>;
  /** The SQL parameter expression for a hex hash written to the audit log's hash columns: `?` on SQLite, `decode(?, 'hex')` on PostgreSQL (bytea, migration 027). */
  readonly hash: string;
  close(): Promise<void>;
}

export async function openRaw(w: World): Promise<RawDb> {
  if (w.env.schema === undefined) {
    const db = new BetterSqlite3(w.env.config.database.url.replace(/^sqlite:/, ''));
    db.pragma('busy_timeout = 5000');
    return {
      run: async (q, p = []) => void db.prepare(q).run(...p),
      all: async <T>(q: string, p: unknown[] = []) => db.prepare(q).all(...p) as T[],
      disableAppendOnly: async () => {
        for (const t of ['audit_log', 'audit_checkpoints'])
          db.exec(`drop trigger if exists ${t}_no_update; drop trigger if exists ${t}_no_delete`);
      },
      close: async () => void db.close(),
      hash: '?',
    };
  }
  // Hashes read back as hex, as the gateway reads them (db/connect.ts).
  const bytea = pg.types.getTypeParser(17, 'text') as (v: string) => Buffer;
  const client = new pg.Client({
    connectionString: PG_URL,
    options: `-c search_path=${w.env.schema}`,
    types: {
      getTypeParser: ((oid: number, format?: string) =>
        oid === 17
          ? (v: string) => bytea(v).toString('hex')
          : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  });
  await client.connect();
  const numbered = (q: string) => {
    let i = 0;
    return q.replace(/\?/g, () => `$${++i}`);
  };
  return {
    run: async (q, p = []) => void (await client.query(numbered(q), p)),
    all: async <T>(q: string, p: unknown[] = []) => (await client.query(numbered(q), p)).rows as T[],
    disableAppendOnly: async () => {
      for (const t of ['audit_log', 'audit_checkpoints']) await client.query(`alter table ${t} disable trigger user`);
    },
    close: () => client.end(),
    hash: "decode(?, 'hex')",
  };
}
