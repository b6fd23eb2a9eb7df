import type { Deps } from '../../deps.js';
import { CsError } from '../../lib/errors.js';

export interface LeaseState {
  /** Whether this node holds the consumer now. */
  held: boolean;
  cursor: number;
  /** When the lease ends (ours, or the holder's when not held); null when free. */
  expiresAt: number | null;
}

/**
 * Registers a consumer the first time any node runs it. Several nodes starting at once insert the same
 * name; the first wins and the others keep its row (and its cursor). A new consumer starts after the head
 * (it owes nothing for what happened before it existed) or, asked to, before the oldest kept event.
 */
export async function ensureConsumer(deps: Deps, name: string, startAt: 'head' | 'oldest'): Promise<void> {
  await deps.committer.run(async (tx) => {
    const head = await tx.db.selectFrom('chain_head').select('event_seq').where('id', '=', 1).executeTakeFirstOrThrow();
    const oldest = await tx.db
      .selectFrom('events')
      .select((eb) => eb.fn.min('seq').as('min'))
      .executeTakeFirst();
    const cursor = startAt === 'head' ? Number(head.event_seq) : oldest?.min == null ? Number(head.event_seq) : Number(oldest.min) - 1;
    await tx.db
      .insertInto('event_consumers')
      .values({ name, cursor, lease_owner: null, lease_expires_at: null, registered_at: tx.now, updated_at: tx.now, cursor_ts: null })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
  });
}

/**
 * Takes or renews the lease on a consumer. The consumer row is the lease: one holder per name, so the
 * holder can read a batch after its cursor and move the cursor past it without per-event claims (a row
 * per event would double the write load of a busy gateway). On PostgreSQL the row is read
 * `FOR UPDATE SKIP LOCKED`, so a node never queues behind another node's claim; the lease itself (owner,
 * expiry, compared and set in one transaction) is what decides. A node that died holding it is replaced
 * once its lease has expired.
 */
export async function claimLease(deps: Deps, name: string, owner: string, leaseMs: number): Promise<LeaseState> {
  return deps.committer.run(async (tx) => {
    let q = tx.db.selectFrom('event_consumers').select(['cursor', 'lease_owner', 'lease_expires_at']).where('name', '=', name);
    if (tx.caps.skipLocked) q = q.forUpdate().skipLocked();
    const row = await q.executeTakeFirst();
    // Locked by another node's claim right now: it is being taken.
    if (!row) return { held: false, cursor: 0, expiresAt: tx.now + leaseMs };
    const expiresAt = row.lease_expires_at === null ? null : Number(row.lease_expires_at);
    const free = row.lease_owner === null || row.lease_owner === owner || expiresAt === null || expiresAt <= tx.now;
    if (!free) return { held: false, cursor: Number(row.cursor), expiresAt };
    const until = tx.now + leaseMs;
    await tx.db
      .updateTable('event_consumers')
      .set({ lease_owner: owner, lease_expires_at: until, updated_at: tx.now })
      .where('name', '=', name)
      .execute();
    return { held: true, cursor: Number(row.cursor), expiresAt: until };
  });
}

/**
 * Extends the lease while a batch is being delivered, compare-and-set on (owner, cursor) like recording
 * the batch: false when another node took the consumer over (the caller then starts nothing more). A batch
 * renews before each delivery it starts once half the lease is gone, so a long batch keeps its lease
 * while it makes progress, and a handler stuck past the lease still lets another node take over.
 */
export async function renewLease(deps: Deps, name: string, owner: string, cursor: number, leaseMs: number): Promise<number | null> {
  return deps.committer.run(async (tx) => {
    const until = tx.now + leaseMs;
    const res = await tx.db
      .updateTable('event_consumers')
      .set({ lease_expires_at: until, updated_at: tx.now })
      .where('name', '=', name)
      .where('lease_owner', '=', owner)
      .where('cursor', '=', cursor)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1 ? until : null;
  });
}

/** Gives the lease up at shutdown, so another node takes over at once instead of after the expiry. */
export async function releaseLease(deps: Deps, name: string, owner: string): Promise<void> {
  await deps.committer.run(async (tx) => {
    await tx.db
      .updateTable('event_consumers')
      .set({ lease_owner: null, lease_expires_at: null, updated_at: tx.now })
      .where('name', '=', name)
      .where('lease_owner', '=', owner)
      .execute();
  });
}

/** The holder and expiry as last committed (a plain read: non-holders look here before trying a claim). */
export async function peekLease(deps: Deps, name: string): Promise<{ owner: string | null; expiresAt: number | null } | undefined> {
  const row = await deps.db.read
    .selectFrom('event_consumers')
    .select(['lease_owner', 'lease_expires_at'])
    .where('name', '=', name)
    .executeTakeFirst();
  if (!row) return undefined;
  return { owner: row.lease_owner, expiresAt: row.lease_expires_at === null ? null : Number(row.lease_expires_at) };
}

export function leaseLost(name: string): CsError {
  return new CsError('conflict', `consumer ${name}: another node holds the lease now`);
}
