import type { Kysely } from 'kysely';
import type { DB } from '../src/db/types.js';
import type { World } from './helpers.js';
import type { AuditRow, RawDb } from './raw-db.js';

/** Shared by the audit tests: putting a row back the way it was, and a gateway whose checkpointer stays quiet. */

export const insertSql = (raw: RawDb) =>
  `insert into audit_log (seq, ts, actor_type, actor_id, event, action_id, data, prev_hash, hash) values (?, ?, ?, ?, ?, ?, ?, ${raw.hash}, ${raw.hash})`;
export const values = (r: AuditRow) => [r.seq, r.ts, r.actor_type, r.actor_id, r.event, r.action_id, r.data, r.prev_hash, r.hash];

/** Long enough that the background checkpointer never fires: these tests sign checkpoints when they choose. */
export const QUIET = { config: (c: World['env']['config']) => ({ ...c, audit: { ...c.audit, checkpointIntervalMs: 24 * 3_600_000 } }) };

/**
 * The gateway's read connection, except that a read of `chain_head` first waits for `commit` (started once):
 * verifyAudit reads the head after walking the entries, so this is a busy gateway committing between the
 * walk and the head read, every time. `committed()` tells whether it happened.
 */
export function commitBeforeHeadRead(read: Kysely<DB>, commit: () => Promise<unknown>) {
  let committed: Promise<unknown> | undefined;
  const delayed = <T extends object>(builder: T): T =>
    new Proxy(builder, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        if (prop === 'executeTakeFirst' || prop === 'execute') {
          return async (...args: unknown[]) => {
            committed ??= commit();
            await committed;
            return value.apply(target, args);
          };
        }
        return (...args: unknown[]) => {
          const out = value.apply(target, args);
          return out && typeof out === 'object' ? delayed(out) : out;
        };
      },
    });
  const racing = new Proxy(read, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (prop !== 'selectFrom') return typeof value === 'function' ? value.bind(target) : value;
      return (table: string) =>
        table === 'chain_head' ? delayed(target.selectFrom('chain_head')) : target.selectFrom(table as 'audit_log');
    },
  });
  return { read: racing, committed: () => committed !== undefined };
}
