import { hostname } from 'node:os';
import { z } from 'zod';
import type { OtlpSinkConfig } from '../config/audit-export-schema.js';
import type { Clock } from '../lib/clock.js';
import { exportLogsRequest } from './otlp-json.js';
import type { Sink } from './types.js';

/** ExportLogsServiceResponse: partialSuccess names records the collector refused. */
const ExportLogsResponse = z.object({
  partialSuccess: z
    .object({ rejectedLogRecords: z.union([z.string(), z.number()]).optional(), errorMessage: z.string().optional() })
    .optional(),
});

/**
 * OTLP/HTTP logs, JSON encoding: POST {url}/v1/logs. Written to the protocol rather than through
 * @opentelemetry/exporter-logs-otlp-http, whose batching processor and retries would stand between a send
 * and the knowledge that it landed, which is what moves the cursor. A 2xx delivers the batch; a partial
 * success that rejects records does not (the spec asks clients not to retry those, but an audit stream
 * cannot drop entries: it stops there, visibly, until the collector takes them).
 */
export function otlpSink(cfg: OtlpSinkConfig, clock: Clock): Sink {
  const url = /\/v1\/logs\/?$/.test(cfg.url) ? cfg.url : `${cfg.url.replace(/\/+$/, '')}/v1/logs`;
  const resource = { serviceName: cfg.service_name, hostName: hostname() };
  return {
    name: cfg.name,
    async send(entries, signal) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { ...cfg.headers, 'content-type': 'application/json' },
        body: JSON.stringify(exportLogsRequest(entries, resource, clock.now())),
        signal,
        redirect: 'error',
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`OTLP collector answered ${res.status}: ${text.slice(0, 300)}`);
      let parsed: z.infer<typeof ExportLogsResponse> = {};
      if (text.trim() !== '') {
        const r = ExportLogsResponse.safeParse(JSON.parse(text));
        if (!r.success) throw new Error('OTLP collector answered an unexpected shape');
        parsed = r.data;
      }
      const rejected = Number(parsed.partialSuccess?.rejectedLogRecords ?? 0);
      if (rejected > 0) {
        throw new Error(
          `OTLP collector rejected ${rejected} of ${entries.length} records: ${parsed.partialSuccess?.errorMessage ?? ''}`.trim(),
        );
      }
    },
    async close() {},
  };
}
