import type { World } from './helpers.js';
import type { AuditRow, RawDb } from './raw-db.js';

/** Shared by the audit tests: putting a row back the way it was, and a gateway whose checkpointer stays quiet. */

export const insertSql = (raw: RawDb) =>
  `insert into audit_log (seq, ts, actor_type, actor_id, event, action_id, data, prev_hash, hash) values (?, ?, ?, ?, ?, ?, ?, ${raw.hash}, ${raw.hash})`;
export const values = (r: AuditRow) => [r.seq, r.ts, r.actor_type, r.actor_id, r.event, r.action_id, r.data, r.prev_hash, r.hash];

/** Long enough that the background checkpointer never fires: these tests sign checkpoints when they choose. */
export const QUIET = { config: (c: World['env']['config']) => ({ ...c, audit: { ...c.audit, checkpointIntervalMs: 24 * 3_600_000 } }) };
