import { compactAction, SAME_AS_NEXT, STORED_ACTION } from '../events/stored-action.js';
import type { EventInput } from '../events/types.js';
import { canonicalJson } from '../lib/canonical.js';
import type { Actor, AuditInput } from './committer.js';

/** An audit entry whose data is already RFC 8785 canonical text: the bytes that are hashed and stored. */
export interface SerializedAudit {
  actor: Actor;
  event: string;
  actionId: string | null;
  data: string;
}

/** An event with its data's JSON text (the outbox column); `event.data` still goes to in-process subscribers. */
export interface SerializedEvent {
  event: EventInput;
  text: string;
}

/**
 * Serializes one operation's audit entries and events. The committer calls this right after the
 * operation, inside its error path, so an entry that cannot be serialized (a value canonical JSON
 * refuses, a BigInt) fails that operation alone instead of the whole batch's append.
 * `texts` is shared across a batch: a creation's events carry the same view object, compacted and serialized once.
 */
export function serializeEntries(
  audits: readonly AuditInput[],
  events: readonly EventInput[],
  texts: Map<object, string>,
): { audits: SerializedAudit[]; events: SerializedEvent[] } {
  return {
    audits: audits.map((a) => ({ actor: a.actor, event: a.event, actionId: a.actionId ?? null, data: canonicalJson(a.data) })),
    events: events.map((e, i) => ({ event: e, text: sameAsNext(events, i) ? sameAsNextText(e.data) : payloadText(e.data, texts) })),
  };
}

/** Whether the action's next event in this operation carries the very same view (then it alone stores it). */
function sameAsNext(events: readonly EventInput[], i: number): boolean {
  const e = events[i] as EventInput;
  if (!('action' in e.data) || e.actionId === null) return false;
  const next = events.slice(i + 1).find((n) => n.actionId === e.actionId);
  return next !== undefined && 'action' in next.data && next.data.action === e.data.action;
}

function sameAsNextText(data: EventInput['data']): string {
  const { action: _, ...rest } = data as { action: unknown };
  const others = JSON.stringify(rest);
  return others === '{}' ? `{"${STORED_ACTION}":"${SAME_AS_NEXT}"}` : `{"${STORED_ACTION}":"${SAME_AS_NEXT}",${others.slice(1)}`;
}

/**
 * An event payload's JSON text. The action view is stored compactly (events/stored-action.ts: what the action
 * row does not hold for good), under its own key so the reader knows to rebuild it; once per view object.
 */
function payloadText(data: EventInput['data'], texts: Map<object, string>): string {
  if (!('action' in data)) return JSON.stringify(data);
  const { action, ...rest } = data;
  let stored = texts.get(action);
  if (stored === undefined) {
    stored = JSON.stringify(compactAction(action));
    texts.set(action, stored);
  }
  const others = JSON.stringify(rest);
  return others === '{}' ? `{"${STORED_ACTION}":${stored}}` : `{"${STORED_ACTION}":${stored},${others.slice(1)}`;
}
