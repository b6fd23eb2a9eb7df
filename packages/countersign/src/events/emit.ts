import type { Tx } from '../db/committer.js';
import type { ActionEventType, EventInput, EventPayloads, EventScope, EventType } from './types.js';

/** Event types about the gateway itself rather than one action. */
export type SystemEventType = Exclude<EventType, ActionEventType>;

const NO_SCOPE: EventScope = { actionId: null, agentId: null, sessionId: null, rootId: null };

/**
 * Queues a system event (a policy change, say) in the operation's transaction: it is published only
 * if the transaction commits. Action events go through `emitActionEvent` (domain/actions), which
 * builds their payload from the row so every one carries the same view and deadlines.
 */
export function emitEvent<K extends SystemEventType>(tx: Tx, type: K, data: EventPayloads[K]): void {
  tx.emit({ ...NO_SCOPE, type, data } as EventInput);
}
