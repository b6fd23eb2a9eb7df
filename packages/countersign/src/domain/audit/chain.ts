import { hash } from 'node:crypto';

export const GENESIS_HASH = '0'.repeat(64);

/** The fields of an audit entry that its hash covers (everything but the hashes themselves). */
export interface AuditEntryFields {
  seq: number;
  ts: number;
  actor_type: string;
  actor_id: string | null;
  event: string;
  action_id: string | null;
  /** RFC 8785 canonical JSON text of the entry's data. */
  data: string;
}

/**
 * RFC 8785 canonical JSON of the entry, built directly: keys in code-point
 * order, strings escaped as JSON.stringify does (which is what JCS specifies),
 * and `data` already canonical. Equal to canonicalJson({...entry, data: JSON.parse(data)})
 * but without re-parsing, which keeps `audit verify` fast on long chains.
 */
export function canonicalAuditEntry(e: AuditEntryFields): string {
  return (
    `{"action_id":${e.action_id === null ? 'null' : JSON.stringify(e.action_id)}` +
    `,"actor_id":${e.actor_id === null ? 'null' : JSON.stringify(e.actor_id)}` +
    `,"actor_type":${JSON.stringify(e.actor_type)}` +
    `,"data":${e.data}` +
    `,"event":${JSON.stringify(e.event)}` +
    `,"seq":${e.seq}` +
    `,"ts":${e.ts}}`
  );
}

/**
 * hash = sha256(prev_hash ‖ canonical entry), hex; prev_hash is the previous entry's hex hash (genesis: 64 zeros).
 * One-shot crypto.hash, not createHash: half the cost per entry, which is most of `audit verify`.
 */
export function auditEntryHash(prevHash: string, e: AuditEntryFields): string {
  return hash('sha256', prevHash + canonicalAuditEntry(e), 'hex');
}
