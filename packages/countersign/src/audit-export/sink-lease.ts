import type { Deps } from '../deps.js';
import { GENESIS_HASH } from '../domain/audit/chain.js';

/** A sink's row as its holder needs it: where to continue, what to link to, and the back-off in force. */
export interface SinkState {
  held: boolean;
  cursor: number;
  cursorHash: string;
  attempts: number;
  nextAttemptAt: number | null;
  /** When the lease ends (ours, or the holder's when not held); null when free. */
  expiresAt: number | null;
}

/**
 * Registers a sink the first time any node runs it: at genesis (every entry ever written is owed) or at
 * the current head. Several nodes starting at once insert the same name; the first wins and the others
 * keep its row, cursor included, so a restart never moves it.
 */
export async function ensureSink(deps: Deps, name: string, startAt: 'genesis' | 'head'): Promise<void> {
  await deps.committer.run(async (tx) => {
    const head = await tx.db.selectFrom('chain_head').select(['audit_seq', 'audit_hash']).where('id', '=', 1).executeTakeFirstOrThrow();
    const [cursor, cursorHash] = startAt === 'genesis' ? [0, GENESIS_HASH] : [Number(head.audit_seq), head.audit_hash];
    await tx.db
      .insertInto('audit_export_sinks')
      .values({
        name,
        cursor,
        cursor_hash: cursorHash,
        cursor_ts: null,
        lease_owner: null,
        lease_expires_at: null,
        attempts: 0,
        next_attempt_at: null,
        last_error: null,
        sent_at: null,
        registered_at: tx.now,
        updated_at: tx.now,
      })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
  });
}

/**
 * Takes or renews the lease, as a durable consumer does (events/consumers/claim.ts): the row is the lease,
 * read `FOR UPDATE SKIP LOCKED` where the database has it, so only one node streams a sink at a time and
 * a node that died holding it is replaced once its lease has expired.
 */
export async function claimSink(deps: Deps, name: string, owner: string, leaseMs: number): Promise<SinkState> {
  return deps.committer.run(async (tx) => {
    let q = tx.db
      .selectFrom('audit_export_sinks')
      .select(['cursor', 'cursor_hash', 'attempts', 'next_attempt_at', 'lease_owner', 'lease_expires_at'])
      .where('name', '=', name);
    if (tx.caps.skipLocked) q = q.forUpdate().skipLocked();
    const row = await q.executeTakeFirst();
    const none = { cursor: 0, cursorHash: GENESIS_HASH, attempts: 0, nextAttemptAt: null };
    // Locked by another node's claim right now: it is being taken.
    if (!row) return { held: false, ...none, expiresAt: tx.now + leaseMs };
    const state = {
      cursor: Number(row.cursor),
      cursorHash: row.cursor_hash,
      attempts: Number(row.attempts),
      nextAttemptAt: row.next_attempt_at === null ? null : Number(row.next_attempt_at),
    };
    const expiresAt = row.lease_expires_at === null ? null : Number(row.lease_expires_at);
    const free = row.lease_owner === null || row.lease_owner === owner || expiresAt === null || expiresAt <= tx.now;
    if (!free) return { held: false, ...state, expiresAt };
    const until = tx.now + leaseMs;
    await tx.db
      .updateTable('audit_export_sinks')
      .set({ lease_owner: owner, lease_expires_at: until, updated_at: tx.now })
      .where('name', '=', name)
      .execute();
    return { held: true, ...state, expiresAt: until };
  });
}

/** Gives the lease up at shutdown, so another node takes over at once instead of after the expiry. */
export async function releaseSink(deps: Deps, name: string, owner: string): Promise<void> {
  await deps.committer.run(async (tx) => {
    await tx.db
      .updateTable('audit_export_sinks')
      .set({ lease_owner: null, lease_expires_at: null, updated_at: tx.now })
      .where('name', '=', name)
      .where('lease_owner', '=', owner)
      .execute();
  });
}

/** The holder and expiry as last committed (a plain read: non-holders look here before trying a claim). */
export async function peekSink(deps: Deps, name: string): Promise<{ owner: string | null; expiresAt: number | null } | undefined> {
  const row = await deps.db.read
    .selectFrom('audit_export_sinks')
    .select(['lease_owner', 'lease_expires_at'])
    .where('name', '=', name)
    .executeTakeFirst();
  if (!row) return undefined;
  return { owner: row.lease_owner, expiresAt: row.lease_expires_at === null ? null : Number(row.lease_expires_at) };
}
