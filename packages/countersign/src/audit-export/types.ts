import type { AuditEntryView } from '../domain/audit/schemas.js';

/** What a sink receives: a stored entry as `audit export` shows it, hashes included (hash covers everything but `time`). */
export type ExportEntry = AuditEntryView;

/**
 * One SIEM destination. `send` resolves only once the destination has taken the whole batch (an HTTP 2xx, an
 * indexer acknowledgement, a flushed socket write) and rejects otherwise; the exporter then sends the same
 * batch again later, so a receiver sees an entry at least once and de-duplicates by its seq (or hash).
 */
export interface Sink {
  readonly name: string;
  send(entries: readonly ExportEntry[], signal: AbortSignal): Promise<void>;
  /** Closes connections at shutdown. */
  close(): Promise<void>;
}

/** The id a receiver de-duplicates by: stable across retries, restarts and nodes. */
export function entryId(e: ExportEntry): string {
  return `countersign-audit-${e.seq}`;
}
