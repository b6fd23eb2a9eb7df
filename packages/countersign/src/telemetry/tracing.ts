import { ProxyTracerProvider, type Tracer, type TracerProvider, trace } from '@opentelemetry/api';
import { VERSION } from '../version.js';

/** The gateway's tracer, and whether anything records what it traces. */
export interface Tracing {
  /**
   * False when no OpenTelemetry SDK is registered: every traced path checks this first and then does
   * nothing at all, so a gateway without tracing pays one boolean test per request, not a no-op span.
   */
  readonly enabled: boolean;
  readonly tracer: Tracer;
}

export const TRACER_NAME = 'countersign';

/**
 * `provider` is the one to use (tests pass an SDK provider with an in-memory exporter); without one, the
 * globally registered provider (`tracing-sdk.ts` registers it from the standard OTEL_* environment, or an
 * operator's own `--import` preload did). The API's global is a proxy that stays a no-op until an SDK
 * registers a delegate, which is how we know whether tracing is on.
 */
export function createTracing(provider?: TracerProvider): Tracing {
  const p = provider ?? trace.getTracerProvider();
  const enabled = p instanceof ProxyTracerProvider ? p.getDelegateTracer(TRACER_NAME, VERSION) !== undefined : true;
  return { enabled, tracer: p.getTracer(TRACER_NAME, VERSION) };
}
