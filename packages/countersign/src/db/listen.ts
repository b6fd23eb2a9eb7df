import { createHash } from 'node:crypto';
import pg from 'pg';

/** What a gateway hears from the database about events other processes committed. */
export interface ListenHandlers {
  /**
   * A commit appended events up to `seq` (the new head); delivered by PostgreSQL after that commit.
   * `own` when this process wrote it (its committer publishes those itself).
   */
  onNotify(seq: number, own: boolean): void;
  /**
   * The listening connection is (re)established. Anything committed while it was down was not heard,
   * so the caller reads the outbox after what it has already published.
   */
  onConnect(reconnect: boolean): void;
  /** The connection failed or dropped; it is being re-established. */
  onDisconnect(error: unknown): void;
}

export interface Listener {
  /** Settles once the first connection attempt has (it never rejects: a failure is retried). */
  readonly ready: Promise<void>;
  /** The PostgreSQL backend pid of the listening connection while connected (operators, tests). */
  backendPid(): number | undefined;
  close(): Promise<void>;
}

/** SQLite is one node: nothing to hear, nothing to close. */
export const silentListener: Listener = { ready: Promise.resolve(), backendPid: () => undefined, close: async () => undefined };

/**
 * The NOTIFY channel for a schema. Each schema is its own Countersign (tests run many in one database),
 * so the name carries it; channels are identifiers of at most 63 bytes, so a long schema is hashed.
 */
export function notifyChannel(schema: string): string {
  const plain = `countersign_events_${schema}`;
  if (plain.length <= 63) return plain;
  return `countersign_events_${createHash('sha256').update(schema).digest('hex').slice(0, 32)}`;
}

const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 5_000;

export interface ListenOptions {
  url: string;
  channel: string;
  /** This process's tag in notify payloads. */
  origin: string;
  /** Shown in pg_stat_activity.application_name, so an operator can tell the listening connection apart. */
  applicationName: string;
}

/**
 * One dedicated connection per gateway (never from the pool: a pooled connection is handed to other
 * queries, and LISTEN belongs to a session). When it errors or ends it is re-established with
 * exponential back-off, and every (re)connection is reported so the caller replays the gap.
 */
export function listenPostgres(opts: ListenOptions, handlers: ListenHandlers): Listener {
  let client: pg.Client | undefined;
  let closed = false;
  let connectedOnce = false;
  let delay = BACKOFF_MIN_MS;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let pid: number | undefined;
  let connecting: Promise<void> | undefined;

  const dropped = (c: pg.Client, error: unknown) => {
    if (client !== c) return;
    client = undefined;
    pid = undefined;
    c.removeAllListeners('notification');
    c.end().catch(() => undefined);
    if (closed) return;
    handlers.onDisconnect(error);
    schedule();
  };

  const schedule = () => {
    if (closed || retry !== undefined) return;
    retry = setTimeout(() => {
      retry = undefined;
      connecting = connect();
    }, delay);
    retry.unref();
    delay = Math.min(delay * 2, BACKOFF_MAX_MS);
  };

  const connect = async () => {
    const c = new pg.Client({ connectionString: opts.url, application_name: opts.applicationName });
    // Without a listener an 'error' event would crash the process; a dropped connection is expected.
    c.on('error', (e) => dropped(c, e));
    c.on('end', () => dropped(c, new Error('listen connection ended')));
    c.on('notification', (m) => {
      if (m.channel !== opts.channel) return;
      const [seqText, origin] = (m.payload ?? '').split(' ');
      const seq = Number(seqText);
      if (Number.isSafeInteger(seq)) handlers.onNotify(seq, origin === opts.origin);
    });
    client = c;
    try {
      await c.connect();
      const res = await c.query<{ pid: number }>(`listen ${pg.escapeIdentifier(opts.channel)}; select pg_backend_pid() as pid`);
      const rows = (Array.isArray(res) ? res.at(-1)?.rows : (res as pg.QueryResult<{ pid: number }>).rows) ?? [];
      if (closed || client !== c) {
        await c.end().catch(() => undefined);
        return;
      }
      pid = rows[0]?.pid;
      delay = BACKOFF_MIN_MS;
      const reconnect = connectedOnce;
      connectedOnce = true;
      handlers.onConnect(reconnect);
    } catch (e) {
      dropped(c, e);
    }
  };

  connecting = connect();
  return {
    ready: connecting,
    backendPid: () => pid,
    async close() {
      closed = true;
      if (retry !== undefined) clearTimeout(retry);
      await connecting?.catch(() => undefined);
      const c = client;
      client = undefined;
      if (c) await c.end().catch(() => undefined);
    },
  };
}
