import { type Context, type Span, SpanKind, type Tracer, trace } from '@opentelemetry/api';
import { failSpan } from './spans.js';
import { formatTraceHeaders, type TraceHeaders } from './trace-context.js';

/**
 * The spans of one proposal: `countersign.propose` (a server span, the child of the agent's `traceparent`)
 * and, one after the other inside it, `countersign.policy` (validation and the policy decision),
 * `countersign.sign` (a receipt signed ahead for an allow) and `countersign.commit` (the group-committed
 * transaction, with its wait for the batch). Created only when tracing is on; the propose verb holds it as
 * `undefined` otherwise and every call site is `spans?.…`, so tracing off allocates nothing.
 */
export class ProposeSpans {
  private readonly root: Span;
  private step: Span | undefined;
  /** The proposing span's context, stored with the action so its later steps link back (migration 025). */
  readonly headers: TraceHeaders;

  constructor(
    private readonly tracer: Tracer,
    private readonly parent: Context,
  ) {
    this.root = tracer.startSpan('countersign.propose', { kind: SpanKind.SERVER }, parent);
    this.headers = formatTraceHeaders(this.root.spanContext());
  }

  /** Ends the running step and starts the next one. */
  begin(name: 'countersign.policy' | 'countersign.sign' | 'countersign.commit'): void {
    this.step?.end();
    this.step = this.tracer.startSpan(name, { kind: SpanKind.INTERNAL }, trace.setSpan(this.parent, this.root));
  }

  done(action: { id: string; tool: string; status: string }, created: boolean): void {
    this.step?.end();
    this.root.setAttributes({
      'countersign.action.id': action.id,
      'countersign.tool': action.tool,
      'countersign.action.status': action.status,
      'countersign.action.created': created,
    });
    this.root.end();
  }

  fail(e: unknown): void {
    if (this.step) failSpan(this.step, e);
    this.step?.end();
    failSpan(this.root, e);
    this.root.end();
  }
}
