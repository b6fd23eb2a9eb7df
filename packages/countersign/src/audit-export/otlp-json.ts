import { type ExportEntry, entryId } from './types.js';

/** OTLP's AnyValue in the protobuf JSON mapping: 64-bit integers travel as decimal strings. */
type AnyValue = { stringValue: string } | { intValue: string };
interface KeyValue {
  key: string;
  value: AnyValue;
}

/** SeverityNumber INFO (opentelemetry-proto logs/v1 SeverityNumber.SEVERITY_NUMBER_INFO). */
const SEVERITY_INFO = 9;

const str = (key: string, v: string): KeyValue => ({ key, value: { stringValue: v } });

/** The attributes a receiver de-duplicates and chains by; the body is the entry itself. */
function attributes(e: ExportEntry): KeyValue[] {
  const out = [
    str('countersign.audit.id', entryId(e)),
    { key: 'countersign.audit.seq', value: { intValue: String(e.seq) } },
    str('countersign.audit.hash', e.hash),
    str('countersign.audit.prev_hash', e.prev_hash),
    str('countersign.audit.event', e.event),
    str('countersign.audit.actor_type', e.actor_type),
  ];
  if (e.actor_id !== null) out.push(str('countersign.audit.actor_id', e.actor_id));
  if (e.action_id !== null) out.push(str('countersign.audit.action_id', e.action_id));
  return out;
}

/**
 * An ExportLogsServiceRequest (opentelemetry-proto collector/logs/v1) in the OTLP/HTTP JSON encoding: one
 * resource (this service), one scope, one LogRecord per entry with its commit time, INFO severity, the
 * entry as JSON text in the body (exactly what was hashed, so it can be verified again) and its ids as
 * attributes.
 */
export function exportLogsRequest(
  entries: readonly ExportEntry[],
  resource: { serviceName: string; hostName: string },
  observedMs: number,
) {
  return {
    resourceLogs: [
      {
        resource: { attributes: [str('service.name', resource.serviceName), str('host.name', resource.hostName)] },
        scopeLogs: [
          {
            scope: { name: 'countersign.audit', version: '1' },
            logRecords: entries.map((e) => ({
              timeUnixNano: `${e.ts}000000`,
              observedTimeUnixNano: `${observedMs}000000`,
              severityNumber: SEVERITY_INFO,
              severityText: 'INFO',
              body: { stringValue: JSON.stringify(e) },
              attributes: attributes(e),
            })),
          },
        ],
      },
    ],
  };
}
