import type { TraceHeaders } from '@countersign/sdk';
import { Traceparent, Tracestate } from '../telemetry/trace-context.js';

/**
 * The W3C trace context a `tools/call` carries in `params._meta` (`traceparent`, `tracestate`: the MCP
 * convention for trace propagation), passed on to the gateway with the call's proposal, redemption and
 * result, so the approval's spans join the client's trace. A malformed value is dropped, never an error:
 * tracing must not be able to fail a tool call.
 */
export function traceFromMeta(meta: Record<string, unknown> | undefined): TraceHeaders | undefined {
  const parent = Traceparent.safeParse(meta?.traceparent);
  if (!parent.success) return undefined;
  const state = Tracestate.safeParse(meta?.tracestate);
  return state.success && state.data !== '' ? { traceparent: parent.data, tracestate: state.data } : { traceparent: parent.data };
}
