import { SpanKind } from '@opentelemetry/api';
import type { Deps } from '../deps.js';
import { classify } from '../events/consumers/decision-metrics.js';
import type { ConsumerDefinition } from '../events/consumers/types.js';
import { EVENT } from '../events/types.js';
import { contextOf, parseTraceHeaders } from './trace-context.js';

export const WAIT_SPANS_CONSUMER = 'trace-waits';

/**
 * Puts the time an action waited for a person into the agent's trace: for each final decision, a span
 * `countersign.wait_for_decision` from the proposal to the decision, a child of the proposing span (its
 * context is stored on the action row). The decision may come from any channel (console, Slack, Teams, an
 * email link), a stage time-out or the deadline, on any node; a durable consumer sees every one of them
 * exactly once, where a span in the deciding request would miss all but the HTTP ones. Registered only
 * while tracing is on, starting at the head: a gateway without tracing keeps no cursor for it.
 * Decisions made at proposal time (policy, grant) waited for no one, so they get no span.
 */
export function waitSpansConsumer(deps: Deps): ConsumerDefinition {
  return {
    name: WAIT_SPANS_CONSUMER,
    types: [EVENT.actionApproved, EVENT.actionDenied, EVENT.actionExpired],
    startAt: 'head',
    async handle({ event }) {
      const decision = classify(event);
      if (!decision || decision.labels.decided_by === 'policy' || decision.labels.decided_by === 'grant') return;
      if (event.type !== EVENT.actionApproved && event.type !== EVENT.actionDenied && event.type !== EVENT.actionExpired) return;
      const view = event.data.action;
      const row = await deps.db.read
        .selectFrom('actions')
        .select(['traceparent', 'tracestate'])
        .where('id', '=', view.id)
        .executeTakeFirst();
      const parent = contextOf(parseTraceHeaders(row?.traceparent, row?.tracestate));
      if (!parent) return;
      const from = Date.parse(view.created_at);
      const to = Date.parse(view.decided_at ?? '');
      if (!Number.isFinite(from) || !Number.isFinite(to)) return;
      const span = deps.tracing.tracer.startSpan(
        'countersign.wait_for_decision',
        {
          kind: SpanKind.INTERNAL,
          startTime: from,
          attributes: {
            'countersign.action.id': view.id,
            'countersign.tool': view.tool,
            'countersign.decision.outcome': decision.labels.outcome,
            'countersign.decision.decided_by': decision.labels.decided_by,
          },
        },
        parent,
      );
      span.end(Math.max(from, to));
    },
  };
}
