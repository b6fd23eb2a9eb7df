import type { StoredEvent } from './types.js';

/**
 * An event as every client receives it: the `data:` of a `GET /v1/events` frame and, without `type` (which the
 * Standard Webhooks body carries beside it), a webhook's `data`; a stream reader and a webhook receiver parse
 * the same object. The envelope, then the payload's fields (`action`, `deadlines`, `asked` or `policy`:
 * events/types.ts).
 */
export function wireEvent(e: StoredEvent): Record<string, unknown> {
  return {
    event_id: e.seq,
    type: e.type,
    action_id: e.actionId,
    agent_id: e.agentId,
    session_id: e.sessionId,
    root_id: e.rootId,
    time: new Date(e.ts).toISOString(),
    ...e.data,
  };
}
