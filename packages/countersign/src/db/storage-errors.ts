import { CsError } from '../lib/errors.js';

/**
 * Which driver errors mean "the storage cannot serve this now" rather than "this request is wrong" or
 * "the code is wrong". They answer `unavailable` (HTTP 503, Retry-After) so a caller retries with its
 * idempotency key, instead of `internal` (500), which says nothing sensible to retry on. A transaction
 * that fails this way never committed (or, if the connection died while COMMIT was in flight, its
 * outcome is unknown to the caller, who was never told it succeeded): nothing acknowledged is lost.
 *
 * `details.reason` tells an operator which fault it is: `storage_full` (the disk), `database_unreachable`
 * (PostgreSQL down, restarting or refusing connections) or `database_busy` (a lock held past the wait).
 */
export type StorageFault = 'storage_full' | 'database_unreachable' | 'database_busy';

/** Seconds a client is told to wait before retrying; a restart or a freed disk takes about this long to notice. */
const RETRY_AFTER_SECONDS = 2;

// Node socket errors on the way to the database server (refused while it restarts, reset when it stops).
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

// node-postgres raises these without a code when the socket ends under a client (client.js); there is
// nothing to match but the text, and it has been stable for years.
const PG_LOST_CONNECTION =
  /^(Connection terminated( unexpectedly| due to connection timeout)?|timeout exceeded when trying to connect|Client has encountered a connection error and is not queryable|Client was closed and is not queryable)$/;

/** The fault behind a driver error, or null when the error is not the storage's. */
export function storageFault(error: unknown): StorageFault | null {
  const e = error as { code?: unknown; message?: unknown; errors?: unknown } | null | undefined;
  if (!e || typeof e !== 'object') return null;
  const code = typeof e.code === 'string' ? e.code : '';
  // SQLite (better-sqlite3 extended codes) and the filesystem.
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT') return 'storage_full';
  if (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_') || code === 'SQLITE_LOCKED') return 'database_busy';
  if (code === 'SQLITE_IOERR' || code.startsWith('SQLITE_IOERR_')) return 'database_unreachable';
  // PostgreSQL SQLSTATEs: 53100 disk_full; class 08 connection exceptions; 57P01-57P03 admin/crash shutdown,
  // cannot connect now (starting up or shutting down); 53300 too many connections.
  if (code === '53100') return 'storage_full';
  if (/^08[0-9A-Z]{3}$/.test(code) || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300') {
    return 'database_unreachable';
  }
  if (NETWORK_CODES.has(code)) return 'database_unreachable';
  if (typeof e.message === 'string' && PG_LOST_CONNECTION.test(e.message)) return 'database_unreachable';
  // Node's dual-stack connect reports every refused address inside an AggregateError.
  if (Array.isArray(e.errors) && e.errors.length > 0 && e.errors.every((x) => storageFault(x) === 'database_unreachable')) {
    return 'database_unreachable';
  }
  return null;
}

const MESSAGES: Record<StorageFault, string> = {
  storage_full: 'the database has no space left on its disk; nothing was written. Retry once the operator frees space',
  database_unreachable: 'the database is unreachable; retry shortly (a proposal retried with the same Idempotency-Key is created once)',
  database_busy: 'the database is busy; retry shortly',
};

/** The `unavailable` error for a storage fault, or null when the error is something else. */
export function storageUnavailable(error: unknown): CsError | null {
  const fault = storageFault(error);
  if (fault === null) return null;
  return new CsError('unavailable', MESSAGES[fault], {
    details: { reason: fault, retry_after_seconds: RETRY_AFTER_SECONDS },
    cause: error,
  });
}
