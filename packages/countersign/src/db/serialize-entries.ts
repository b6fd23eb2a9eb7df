import { canonicalJson } from '../lib/canonical.js';
import type { Actor, AuditInput, EventInput } from './committer.js';

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
 * `texts` is shared across a batch: a creation's two events carry the same view object, serialized once.
 */
export function serializeEntries(
  audits: readonly AuditInput[],
  events: readonly EventInput[],
  texts: Map<object, string>,
): { audits: SerializedAudit[]; events: SerializedEvent[] } {
  return {
    audits: audits.map((a) => ({ actor: a.actor, event: a.event, actionId: a.actionId ?? null, data: canonicalJson(a.data) })),
    events: events.map((e) => {
      let text = texts.get(e.data);
      if (text === undefined) {
        text = JSON.stringify(e.data);
        texts.set(e.data, text);
      }
      return { event: e, text };
    }),
  };
}
