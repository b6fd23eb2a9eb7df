import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { HecSinkConfig } from '../config/audit-export-schema.js';
import { type ExportEntry, entryId, type Sink } from './types.js';

const HecReply = z.object({ code: z.number().int(), text: z.string().optional(), ackId: z.number().int().optional() });
const AckReply = z.object({ acks: z.record(z.string(), z.boolean()) });

/** How often an indexer acknowledgement is asked for. */
const ACK_POLL_MS = 1_000;

/**
 * The Splunk HTTP Event Collector: POST /services/collector/event with `Authorization: Splunk <token>` and
 * the batch as concatenated JSON event objects (HEC's batch format, not an array). Each carries the entry as
 * `event` and its id, seq and hashes as indexed `fields`, so searches can de-duplicate and follow the chain.
 * With `ack`, the batch is delivered only once the indexer acknowledges it (POST /services/collector/ack on
 * this sink's channel); without, once HEC answers code 0.
 */
export function hecSink(cfg: HecSinkConfig): Sink {
  const base = cfg.url.replace(/\/+$/, '');
  // One channel per process: acks are per channel, and a restart's batches are new requests anyway.
  const channel = randomUUID();
  const host = hostname();
  const headers: Record<string, string> = {
    authorization: `Splunk ${cfg.token}`,
    'content-type': 'application/json',
    ...(cfg.ack ? { 'x-splunk-request-channel': channel } : {}),
  };

  function body(entries: readonly ExportEntry[]): string {
    return entries
      .map((e) =>
        JSON.stringify({
          time: e.ts / 1000,
          host,
          source: cfg.source,
          sourcetype: cfg.sourcetype,
          ...(cfg.index === undefined ? {} : { index: cfg.index }),
          event: e,
          fields: {
            id: entryId(e),
            seq: String(e.seq),
            hash: e.hash,
            prev_hash: e.prev_hash,
            audit_event: e.event,
            actor_type: e.actor_type,
            ...(e.actor_id === null ? {} : { actor_id: e.actor_id }),
            ...(e.action_id === null ? {} : { action_id: e.action_id }),
          },
        }),
      )
      .join('\n');
  }

  async function post(path: string, payload: string, signal: AbortSignal): Promise<unknown> {
    const res = await fetch(`${base}${path}`, { method: 'POST', headers, body: payload, signal, redirect: 'error' });
    const text = await res.text();
    if (!res.ok) throw new Error(`HEC ${path} answered ${res.status}: ${text.slice(0, 300)}`);
    try {
      return JSON.parse(text);
    } catch {
      throw new Error(`HEC ${path} answered ${res.status} with no JSON: ${text.slice(0, 300)}`);
    }
  }

  /** Polls until the indexer has the batch; `signal` carries the send's time-out, which covers this wait too. */
  async function acknowledged(ackId: number, signal: AbortSignal): Promise<void> {
    for (;;) {
      const reply = AckReply.safeParse(await post(`/services/collector/ack?channel=${channel}`, JSON.stringify({ acks: [ackId] }), signal));
      if (!reply.success) throw new Error('HEC ack answered an unexpected shape');
      if (reply.data.acks[String(ackId)] === true) return;
      await sleep(ACK_POLL_MS, undefined, { signal: signal });
    }
  }

  return {
    name: cfg.name,
    async send(entries, signal) {
      const reply = HecReply.safeParse(await post('/services/collector/event', body(entries), signal));
      if (!reply.success) throw new Error('HEC answered an unexpected shape');
      if (reply.data.code !== 0) throw new Error(`HEC refused the batch: code ${reply.data.code} ${reply.data.text ?? ''}`.trim());
      if (!cfg.ack) return;
      if (reply.data.ackId === undefined) throw new Error('HEC sent no ackId: is indexer acknowledgement on for this token?');
      await acknowledged(reply.data.ackId, signal);
    },
    async close() {},
  };
}
