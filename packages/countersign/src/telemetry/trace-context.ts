import { type Context, createTraceState, ROOT_CONTEXT, type SpanContext, trace } from '@opentelemetry/api';
import { z } from 'zod';

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/), version 00: the `traceparent` an agent sends
 * and the one we store with its action. Parsed here rather than through a registered propagator, because
 * the gateway depends on the OpenTelemetry API only and must read and write the header the same way
 * whichever SDK (if any) the operator installs.
 */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ALL_ZERO = /^0+$/;

export const Traceparent = z
  .string()
  .max(55)
  .regex(TRACEPARENT)
  .refine((v) => !ALL_ZERO.test(v.slice(3, 35)) && !ALL_ZERO.test(v.slice(36, 52)), 'an all-zero trace or span id is invalid');
/** At most 32 list members of at most 256 characters each (the spec's limits), loosely: the API's parser checks the members. */
export const Tracestate = z
  .string()
  .max(512)
  .regex(/^[\x20-\x7e]*$/);

/** What is stored with an action and sent between processes: the two headers. */
export interface TraceHeaders {
  traceparent: string;
  tracestate?: string | undefined;
}

/**
 * The span context a `traceparent` (and `tracestate`) names, marked remote; undefined when the header is
 * absent or malformed. A malformed header is ignored, never refused: the spec says a receiver then starts a
 * new trace, and an agent's tracing must not be able to fail its proposal.
 */
export function parseTraceHeaders(traceparent: unknown, tracestate?: unknown): SpanContext | undefined {
  const parent = Traceparent.safeParse(traceparent);
  if (!parent.success) return undefined;
  const [, traceId, spanId, flags] = TRACEPARENT.exec(parent.data) as RegExpExecArray;
  const state = Tracestate.safeParse(tracestate);
  return {
    traceId: traceId as string,
    spanId: spanId as string,
    traceFlags: Number.parseInt(flags as string, 16) & 1,
    isRemote: true,
    ...(state.success && state.data !== '' ? { traceState: createTraceState(state.data) } : {}),
  };
}

/** The headers that carry a span context to another process (or into the actions row). */
export function formatTraceHeaders(sc: SpanContext): TraceHeaders {
  const traceparent = `00-${sc.traceId}-${sc.spanId}-0${sc.traceFlags & 1}`;
  const tracestate = sc.traceState?.serialize();
  return tracestate ? { traceparent, tracestate } : { traceparent };
}

/** A context whose parent is the given remote span context (for starting a child of another process's span). */
export function contextOf(sc: SpanContext | undefined): Context | undefined {
  return sc ? trace.setSpanContext(ROOT_CONTEXT, sc) : undefined;
}
