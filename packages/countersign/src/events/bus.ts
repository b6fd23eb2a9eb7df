import type { StoredEvent } from './types.js';

export type EventHandler = (event: StoredEvent) => void;

/**
 * In-process fan-out of committed events. It is fed only after a transaction
 * commits (from the outbox rows the committer wrote), so a subscriber never
 * sees an event whose state change could still roll back. Notifiers, SSE
 * streams and long-poll waiters all subscribe here; domain code never calls them.
 */
export class EventBus {
  private readonly all = new Set<EventHandler>();
  private readonly byAction = new Map<string, Set<EventHandler>>();

  subscribe(handler: EventHandler): () => void {
    this.all.add(handler);
    return () => this.all.delete(handler);
  }

  subscribeAction(actionId: string, handler: EventHandler): () => void {
    let set = this.byAction.get(actionId);
    if (!set) {
      set = new Set();
      this.byAction.set(actionId, set);
    }
    set.add(handler);
    return () => {
      const s = this.byAction.get(actionId);
      if (!s) return;
      s.delete(handler);
      if (s.size === 0) this.byAction.delete(actionId);
    };
  }

  publish(events: readonly StoredEvent[]): void {
    for (const event of events) {
      if (event.actionId) {
        const set = this.byAction.get(event.actionId);
        if (set) for (const h of [...set]) safeCall(h, event);
      }
      for (const h of [...this.all]) safeCall(h, event);
    }
  }

  listenerCount(): number {
    let n = this.all.size;
    for (const s of this.byAction.values()) n += s.size;
    return n;
  }
}

function safeCall(h: EventHandler, e: StoredEvent): void {
  try {
    h(e);
  } catch {
    // One broken subscriber must not stop delivery to the others.
  }
}
