import { Webhook } from 'standardwebhooks';
import type { WebhookDeliveriesTable, WebhookEndpointsTable } from '../../db/types.js';
import type { Deps } from '../../deps.js';
import { newId } from '../../lib/ids.js';
import { parseRetryAfter } from '../delivery-errors.js';
import { DestinationRefused, type Resolver, resolveDestination, systemResolver } from './destination.js';
import { signingSecrets } from './endpoint-row.js';
import { webhookMetrics } from './metrics.js';
import { postWebhook } from './post-webhook.js';
import type { DeliveryView } from './schemas.js';
import { loadOrCreateKey, secretKeyFile } from './secret-box.js';

/** How long a receiver has to answer before the attempt counts as failed (and is retried). */
export const DELIVERY_TIMEOUT_MS = 10_000;
const MAX_ERROR_CHARS = 1000;

export interface SendOptions {
  resolve: Resolver;
  timeoutMs: number;
  /** Extra trusted CA certificates (PEM) for receivers whose certificate a private CA issued; Node's roots stay trusted. */
  ca?: string;
}

export const DEFAULT_SEND: SendOptions = { resolve: systemResolver, timeoutMs: DELIVERY_TIMEOUT_MS };

/** One message: the Standard Webhooks body `{type, timestamp, data}` and its identity. */
export interface Message {
  /** The webhook-id header: the consumer's idempotency key, the same for every attempt, so receivers dedupe. */
  webhookId: string;
  type: string;
  /** When the event happened (ISO 8601). */
  timestamp: string;
  data: Record<string, unknown>;
  /** The outbox event, null for a test message. */
  seq: number | null;
  attempt: number;
}

/**
 * Sends one message to one endpoint and logs the attempt: signed with every secret valid now
 * (`webhook-signature` holds one `v1,…` per secret, space-separated, so a receiver holding either the
 * old or the new secret during a rotation verifies it), to the one address the SSRF guard approved.
 * Never throws for the receiver's sake: the outcome is in the returned log entry.
 */
export interface Sent {
  delivery: DeliveryView;
  /** How long the receiver asked to be left alone (its Retry-After on a 429 or 503), if it did. */
  retryAfterMs: number | null;
}

export async function sendToEndpoint(deps: Deps, row: WebhookEndpointsTable, msg: Message, opts: SendOptions): Promise<Sent> {
  const body = JSON.stringify({ type: msg.type, timestamp: msg.timestamp, data: msg.data });
  const now = deps.clock.now();
  const url = new URL(row.url);
  let status: number | null = null;
  let error: string | null = null;
  let durationMs = 0;
  let retryAfterMs: number | null = null;
  if (url.protocol !== 'https:' && Number(row.allow_insecure) !== 1) {
    error = 'the URL is not https and allow_insecure is off';
  } else {
    try {
      const pinned = await resolveDestination(url, Number(row.allow_private) === 1, opts.resolve);
      const secrets = signingSecrets(loadOrCreateKey(secretKeyFile(deps.config)), row, now);
      const signature = secrets.map((s) => new Webhook(s).sign(msg.webhookId, new Date(now), body)).join(' ');
      const headers = {
        'webhook-id': msg.webhookId,
        'webhook-timestamp': String(Math.floor(now / 1000)),
        'webhook-signature': signature,
        'user-agent': 'Countersign-Webhooks',
      };
      const res = await postWebhook(url, pinned, headers, body, opts.timeoutMs, opts.ca);
      status = res.status;
      error = res.error ?? (status !== null && (status < 200 || status > 299) ? `the receiver answered ${status}` : null);
      durationMs = res.durationMs;
      if (status === 429 || status === 503) retryAfterMs = parseRetryAfter(res.retryAfter, now);
    } catch (e) {
      if (!(e instanceof DestinationRefused)) throw e;
      error = e.message;
    }
  }
  const ok = error === null;
  const m = webhookMetrics(deps.metrics.registry);
  const result = ok ? 'sent' : msg.attempt > 1 ? 'retried' : 'failed';
  m.deliveries.inc({ result });
  m.latency.observe({ result }, durationMs / 1000);
  const entry = {
    id: newId(),
    endpoint_id: row.id,
    seq: msg.seq,
    event_type: msg.type,
    webhook_id: msg.webhookId,
    attempt: msg.attempt,
    status_code: status,
    duration_ms: durationMs,
    error: error === null ? null : error.slice(0, MAX_ERROR_CHARS),
    at: 0,
  };
  // The delivery log is operations data, like a consumer's retry rows: written through the Committer,
  // not audited (an audit entry per delivery would double the audit log; failures that give up are
  // audited as dead letters, and 410 disabling the endpoint is audited).
  const at = await deps.committer.run(async (tx) => {
    await tx.db
      .insertInto('webhook_deliveries')
      .values({ ...entry, at: tx.now })
      .execute();
    return tx.now;
  });
  return { delivery: toDeliveryView({ ...entry, at }), retryAfterMs };
}

export function toDeliveryView(r: WebhookDeliveriesTable): DeliveryView {
  return {
    id: r.id,
    endpoint_id: r.endpoint_id,
    seq: r.seq === null ? null : Number(r.seq),
    event_type: r.event_type,
    webhook_id: r.webhook_id,
    attempt: Number(r.attempt),
    status_code: r.status_code === null ? null : Number(r.status_code),
    duration_ms: Number(r.duration_ms),
    error: r.error,
    ok: r.error === null,
    at: new Date(Number(r.at)).toISOString(),
  };
}
