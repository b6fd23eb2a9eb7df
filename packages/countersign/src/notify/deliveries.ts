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

/** One target's reservation in a round: send it, it was sent before, or another attempt is sending it now. */
export type Reservation = { send: true; id: string } | { send: false; id: string } | { busy: string };

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
    const [r] = await reserveIn(tx, deps.config.events.consumerLeaseMs, key, event, [target]);
    if (r === undefined || 'busy' in r) throw new CsError('conflict', r?.busy ?? 'nothing reserved');
    if (!r.send) return r;
    return { send: true, id: r.id, extra: await within(tx, r.id) };
  });
}

/**
 * The same for every target of one event at once, in one transaction (one read of the event's deliveries,
 * one insert of the new ones), so an event with many messages costs one commit before sending rather than
 * one per message. The reservations come back in the targets' order.
 */
export async function reserveDeliveries(
  deps: Deps,
  key: string,
  event: DeliverySource,
  targets: readonly DeliveryTarget[],
): Promise<Reservation[]> {
  if (targets.length === 0) return [];
  return deps.committer.run((tx) => reserveIn(tx, deps.config.events.consumerLeaseMs, key, event, targets));
}

async function reserveIn(
  tx: Tx,
  leaseMs: number,
  key: string,
  event: DeliverySource,
  targets: readonly DeliveryTarget[],
): Promise<Reservation[]> {
  const channels = [...new Set(targets.map((t) => t.channel))];
  const rows = await tx.db
    .selectFrom('notification_deliveries')
    .select(['id', 'channel', 'recipient', 'status', 'attempts', 'updated_at'])
    .where('event_key', '=', key)
    .where('channel', 'in', channels)
    .execute();
  const found = new Map(rows.map((r) => [`${r.channel}\n${r.recipient}`, r]));
  const fresh: NotificationDeliveriesTable[] = [];
  const out: Reservation[] = [];
  for (const t of targets) {
    const f = found.get(`${t.channel}\n${t.recipient}`);
    if (f?.status === 'sent') {
      out.push({ send: false, id: f.id });
      continue;
    }
    // Queued moments ago: another attempt may be talking to the server right now (a node that lost the
    // lease mid-send). Retry later rather than risk a second copy; a node that died leaves it queued,
    // and once a lease's length has passed the send is taken over.
    if (f?.status === 'queued' && tx.now - Number(f.updated_at) < leaseMs) {
      out.push({ busy: `the ${t.channel} to ${t.recipient} is being sent by another attempt` });
      continue;
    }
    if (f) {
      await tx.db
        .updateTable('notification_deliveries')
        .set({ status: 'queued', attempts: Number(f.attempts) + 1, updated_at: tx.now })
        .where('id', '=', f.id)
        .where('status', '=', f.status)
        .execute();
      out.push({ send: true, id: f.id });
      continue;
    }
    const id = newId();
    fresh.push({
      id,
      event_key: key,
      event_seq: event.seq,
      event_type: event.type,
      event_ts: event.ts,
      action_id: event.actionId,
      channel: t.channel,
      recipient: t.recipient,
      user_id: t.userId,
      status: 'queued',
      attempts: 1,
      last_error: null,
      external_ref: null,
      created_at: tx.now,
      updated_at: tx.now,
      sent_at: null,
    });
    out.push({ send: true, id });
  }
  if (fresh.length > 0) await tx.db.insertInto('notification_deliveries').values(fresh).execute();
  return out;
}

/** How one reserved delivery went: sent (with the platform's reference and what to record with it), or failed. */
export type Outcome =
  | { id: string; sent: true; ref: string | null; record?: (tx: Tx) => Promise<void> }
  | { id: string; sent: false; error: string; dead: boolean };

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
  await settleDeliveries(deps, actionId, [{ id, sent: true, ref: externalRef, ...(within ? { record: within } : {}) }]);
}

/** The send failed: `failed` while the event will be retried, `dead` on its last attempt. Audited. */
export async function markFailed(deps: Deps, id: string, actionId: string | null, error: string, dead: boolean): Promise<void> {
  await settleDeliveries(deps, actionId, [{ id, sent: false, error, dead }]);
}

/**
 * Records how a round of deliveries went, in one transaction: each still `queued` one becomes `sent` (with
 * what its send produced, `record`) or `failed` / `dead`, audited; one settled meanwhile is left alone. One
 * UPDATE … RETURNING per delivery both checks and settles it.
 */
export async function settleDeliveries(deps: Deps, actionId: string | null, outcomes: readonly Outcome[]): Promise<void> {
  if (outcomes.length === 0) return;
  await deps.committer.run(async (tx) => {
    for (const o of outcomes) {
      const lastError = o.sent ? null : o.error.slice(0, MAX_ERROR);
      const status = o.sent ? 'sent' : o.dead ? 'dead' : 'failed';
      const row = await tx.db
        .updateTable('notification_deliveries')
        .set(
          o.sent
            ? { status, external_ref: o.ref, last_error: null, sent_at: tx.now, updated_at: tx.now }
            : { status, last_error: lastError, updated_at: tx.now },
        )
        .where('id', '=', o.id)
        .where('status', '=', 'queued')
        .returning(['channel', 'recipient', 'event_type', 'attempts'])
        .executeTakeFirst();
      if (!row) continue;
      if (o.sent && o.record) await o.record(tx);
      const data = {
        delivery_id: o.id,
        channel: row.channel,
        recipient: row.recipient,
        event_type: row.event_type,
        attempts: Number(row.attempts),
      };
      tx.audit({
        actor: SYSTEM,
        event: o.sent ? 'notification.sent' : o.dead ? 'notification.dead' : 'notification.failed',
        actionId,
        data: o.sent ? data : { ...data, error: lastError },
      });
    }
  });
}
