import type { Tx } from '../db/committer.js';
import type { NotificationDeliveriesTable } from '../db/types.js';
import type { Deps } from '../deps.js';
import { CsError } from '../lib/errors.js';
import { newId } from '../lib/ids.js';

const SYSTEM = { type: 'system' as const, id: 'notify' };
/** Errors from a mail server can quote what was sent; the record keeps the start of the message only. */
const MAX_ERROR = 500;

export interface DeliveryTarget {
  channel: string;
  recipient: string;
  userId: string | null;
}

/** What a delivery is about: an event, or a digest (seq 0, type `notify.digest`, its period's start as `ts`). */
export interface DeliverySource {
  seq: number;
  type: string;
  ts: number;
  actionId: string | null;
}

export type Reserved<T> = { send: true; id: string; extra: T } | { send: false; id: string };

/**
 * Reserves the delivery of one event to one recipient on one channel before anything is sent: the row is
 * found or created under its unique (event key, channel, recipient). Already sent: nothing to do (a retry,
 * a replay, a redelivery after a node died). Otherwise the row becomes `queued` with one more attempt, and
 * `within` runs in the same transaction (decision links are issued there, bound to this delivery).
 */
export async function reserveDelivery<T>(
  deps: Deps,
  key: string,
  event: DeliverySource,
  target: DeliveryTarget,
  within: (tx: Tx, deliveryId: string) => Promise<T>,
): Promise<Reserved<T>> {
  return deps.committer.run(async (tx) => {
    const found = await existing(tx, key, target);
    if (found?.status === 'sent') return { send: false, id: found.id };
    // Queued moments ago: another attempt may be talking to the server right now (a node that lost the
    // lease mid-send). Retry later rather than risk a second copy; a node that died leaves it queued,
    // and once a lease's length has passed the send is taken over.
    if (found?.status === 'queued' && tx.now - Number(found.updated_at) < deps.config.events.consumerLeaseMs) {
      throw new CsError('conflict', `the ${target.channel} to ${target.recipient} is being sent by another attempt`);
    }
    let id: string;
    if (found) {
      id = found.id;
      await tx.db
        .updateTable('notification_deliveries')
        .set({ status: 'queued', attempts: Number(found.attempts) + 1, updated_at: tx.now })
        .where('id', '=', id)
        .where('status', '=', found.status)
        .execute();
    } else {
      id = newId();
      const row: NotificationDeliveriesTable = {
        id,
        event_key: key,
        event_seq: event.seq,
        event_type: event.type,
        event_ts: event.ts,
        action_id: event.actionId,
        channel: target.channel,
        recipient: target.recipient,
        user_id: target.userId,
        status: 'queued',
        attempts: 1,
        last_error: null,
        external_ref: null,
        created_at: tx.now,
        updated_at: tx.now,
        sent_at: null,
      };
      await tx.db.insertInto('notification_deliveries').values(row).execute();
    }
    return { send: true, id, extra: await within(tx, id) };
  });
}

async function existing(tx: Tx, key: string, t: DeliveryTarget) {
  return tx.db
    .selectFrom('notification_deliveries')
    .select(['id', 'status', 'attempts', 'updated_at'])
    .where('event_key', '=', key)
    .where('channel', '=', t.channel)
    .where('recipient', '=', t.recipient)
    .executeTakeFirst();
}

/**
 * The message left: sent, with the server's reference for it (the SMTP Message-ID). Audited. `within` runs in
 * the same transaction (the Slack channel records where its message is, with the delivery that posted it).
 */
export async function markSent(
  deps: Deps,
  id: string,
  actionId: string | null,
  externalRef: string | null,
  within?: (tx: Tx) => Promise<void>,
): Promise<void> {
  await deps.committer.run(async (tx) => {
    const row = await queued(tx, id);
    if (!row) return;
    if (within) await within(tx);
    await tx.db
      .updateTable('notification_deliveries')
      .set({ status: 'sent', external_ref: externalRef, last_error: null, sent_at: tx.now, updated_at: tx.now })
      .where('id', '=', id)
      .execute();
    tx.audit({
      actor: SYSTEM,
      event: 'notification.sent',
      actionId,
      data: { delivery_id: id, channel: row.channel, recipient: row.recipient, event_type: row.event_type, attempts: Number(row.attempts) },
    });
  });
}

/** The send failed: `failed` while the event will be retried, `dead` on its last attempt. Audited. */
export async function markFailed(deps: Deps, id: string, actionId: string | null, error: string, dead: boolean): Promise<void> {
  const status = dead ? 'dead' : 'failed';
  const lastError = error.slice(0, MAX_ERROR);
  await deps.committer.run(async (tx) => {
    const row = await queued(tx, id);
    if (!row) return;
    await tx.db
      .updateTable('notification_deliveries')
      .set({ status, last_error: lastError, updated_at: tx.now })
      .where('id', '=', id)
      .execute();
    tx.audit({
      actor: SYSTEM,
      event: dead ? 'notification.dead' : 'notification.failed',
      actionId,
      data: {
        delivery_id: id,
        channel: row.channel,
        recipient: row.recipient,
        event_type: row.event_type,
        attempts: Number(row.attempts),
        error: lastError,
      },
    });
  });
}

/** The delivery while it is being sent (queued); undefined once it was settled. */
async function queued(tx: Tx, id: string) {
  let q = tx.db
    .selectFrom('notification_deliveries')
    .select(['channel', 'recipient', 'event_type', 'attempts'])
    .where('id', '=', id)
    .where('status', '=', 'queued');
  if (tx.caps.lockSuffix) q = q.forUpdate();
  return q.executeTakeFirst();
}
