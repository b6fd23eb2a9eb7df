import { type Attributes, type Context, type Link, ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { Deps } from '../deps.js';
import { isId } from '../lib/ids.js';
import { contextOf, parseTraceHeaders } from './trace-context.js';

/** Request headers as Node gives them. */
type Headers = Record<string, string | string[] | undefined>;

/** The context an incoming request's `traceparent` names (a new trace without one). Only called with tracing on. */
export function requestContext(headers: Headers): Context {
  return contextOf(parseTraceHeaders(headers.traceparent, headers.tracestate)) ?? ROOT_CONTEXT;
}

/** Ends a span with the error that ended its work. */
export function failSpan(span: Span, e: unknown): void {
  span.recordException(e instanceof Error ? e : String(e));
  span.setStatus({ code: SpanStatusCode.ERROR, message: e instanceof Error ? e.message : String(e) });
}

/** Where a later step of an action finds the proposal's trace: the action row (migration 025). */
async function proposalTrace(deps: Deps, actionId: string) {
  const row = await deps.db.read
    .selectFrom('actions')
    .select(['agent_id', 'traceparent', 'tracestate'])
    .where('id', '=', actionId)
    .executeTakeFirst();
  const sc = row ? parseTraceHeaders(row.traceparent, row.tracestate) : undefined;
  return sc ? { agentId: row?.agent_id, sc } : undefined;
}

/**
 * Runs a later step of an action (a review, a redemption, a result) in a server span linked to the span
 * that proposed it: those steps arrive in other requests, often much later, so a link (not a parent) is
 * what ties them to the agent's trace. The span's parent is the request's own `traceparent`; when the
 * request has none and `agentId` is the action's own agent (its redemption or result), the proposal's
 * context is the parent, so the step still lands in the agent's trace. A reviewer's request never joins
 * the agent's trace: it is someone else's work.
 */
export async function tracedStep<T>(
  deps: Deps,
  name: string,
  step: { actionId: string | undefined; headers: Headers; agentId?: string; attributes?: Attributes },
  fn: () => Promise<T>,
): Promise<T> {
  const proposal = step.actionId && isId(step.actionId) ? await proposalTrace(deps, step.actionId) : undefined;
  const incoming = parseTraceHeaders(step.headers.traceparent, step.headers.tracestate);
  const adopt = incoming === undefined && proposal !== undefined && step.agentId !== undefined && proposal.agentId === step.agentId;
  const parent = contextOf(incoming ?? (adopt ? proposal?.sc : undefined)) ?? ROOT_CONTEXT;
  const links: Link[] = proposal ? [{ context: proposal.sc, attributes: { 'countersign.link': 'proposal' } }] : [];
  const attributes: Attributes = { ...step.attributes, ...(step.actionId ? { 'countersign.action.id': step.actionId } : {}) };
  const span = deps.tracing.tracer.startSpan(name, { kind: SpanKind.SERVER, links, attributes }, parent);
  try {
    return await fn();
  } catch (e) {
    failSpan(span, e);
    throw e;
  } finally {
    span.end();
  }
}
