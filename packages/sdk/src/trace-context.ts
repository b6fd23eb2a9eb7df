/**
 * W3C trace context for the gateway's requests: the `traceparent` (and `tracestate`) of the caller's active
 * OpenTelemetry span, so the gateway's spans (proposal, decision wait, redemption, result) join the agent's
 * trace. `@opentelemetry/api` is an optional peer dependency: loaded once per client on its first request,
 * and when it is not installed (or no span is active) nothing is sent. An explicit `trace` given to a call
 * wins (the MCP proxy passes the one a tools/call carried in `_meta`).
 */
export interface TraceHeaders {
  traceparent: string;
  tracestate?: string | undefined;
}

/** The part of `@opentelemetry/api` this reads (typed here so the SDK builds without the package). */
interface OtelApi {
  trace: {
    getActiveSpan():
      | { spanContext(): { traceId: string; spanId: string; traceFlags: number; traceState?: { serialize(): string } } }
      | undefined;
  };
}

const INVALID_TRACE = /^0+$/;

/** Loads the API if it is installed; undefined if not. The name is a variable so bundlers leave it optional. */
export async function loadOtelApi(): Promise<OtelApi | undefined> {
  const name = '@opentelemetry/api';
  try {
    const mod = (await import(name)) as OtelApi & { default?: OtelApi };
    return typeof mod.trace?.getActiveSpan === 'function' ? mod : mod.default;
  } catch {
    return undefined;
  }
}

/** The active span's context as headers; undefined without a valid active span. */
export function activeTraceHeaders(api: OtelApi | undefined): TraceHeaders | undefined {
  const sc = api?.trace.getActiveSpan()?.spanContext();
  if (!sc || INVALID_TRACE.test(sc.traceId) || INVALID_TRACE.test(sc.spanId)) return undefined;
  const traceparent = `00-${sc.traceId}-${sc.spanId}-0${sc.traceFlags & 1}`;
  const tracestate = sc.traceState?.serialize();
  return tracestate ? { traceparent, tracestate } : { traceparent };
}

/** The header entries for a request (an empty object without a trace). */
export function traceHeaderEntries(t: TraceHeaders | undefined): Record<string, string> {
  if (!t) return {};
  return t.tracestate ? { traceparent: t.traceparent, tracestate: t.tracestate } : { traceparent: t.traceparent };
}
