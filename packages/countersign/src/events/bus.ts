import type { StoredEvent } from './types.js';

export type EventHandler = (event: StoredEvent) => void;

/**
 * What a subscriber follows (the same parts as an outbox filter; they combine). The bus hands it only
 * the events that can match its narrowest part; the subscriber still applies its own full check.
 */
export interface BusScope {
  actionId?: string | undefined;
  agentId?: string | undefined;
  sessionId?: string | undefined;
  /** An action and its descendants: events whose root or whose own action is this id. */
  rootId?: string | undefined;
}

type IndexKey = 'action' | 'session' | 'root' | 'agent';
type Index = Map<string, Set<EventHandler>>;

/**
 * In-process fan-out of committed events. It is fed only after a transaction
 * commits (from the outbox rows the committer wrote), so a subscriber never
 * sees an event whose state change could still roll back. Notifiers, SSE
 * streams and long-poll waiters all subscribe here; domain code never calls them.
 *
 * Subscribers with a scope are indexed by its narrowest part, so an event costs a few map lookups and
 * reaches only the subscribers it could concern, however many are parked on other actions or agents.
 * Each subscriber still gets its events one by one in publish (commit) order.
 */
export class EventBus {
  private readonly all = new Set<EventHandler>();
  private readonly index: Record<IndexKey, Index> = {
    action: new Map(),
    session: new Map(),
    root: new Map(),
    agent: new Map(),
  };

  /** Every event; with a scope, at least every event that scope can match (and few others). */
  subscribe(handler: EventHandler, scope: BusScope = {}): () => void {
    const narrowest = narrowestKey(scope);
    if (narrowest === undefined) {
      this.all.add(handler);
      return () => void this.all.delete(handler);
    }
    const [key, id] = narrowest;
    const index = this.index[key];
    let set = index.get(id);
    if (!set) {
      set = new Set();
      index.set(id, set);
    }
    set.add(handler);
    return () => {
      const s = index.get(id);
      if (!s) return;
      s.delete(handler);
      if (s.size === 0) index.delete(id);
    };
  }

  /** The events of one action (a long-poll waiting for its decision). */
  subscribeAction(actionId: string, handler: EventHandler): () => void {
    return this.subscribe(handler, { actionId });
  }

  publish(events: readonly StoredEvent[]): void {
    for (const event of events) {
      // Taken before any handler runs: one that subscribes or unsubscribes while called changes the next event only.
      for (const h of this.handlersFor(event)) safeCall(h, event);
    }
  }

  listenerCount(): number {
    let n = this.all.size;
    for (const index of Object.values(this.index)) for (const s of index.values()) n += s.size;
    return n;
  }

  private handlersFor(e: StoredEvent): EventHandler[] {
    const out: EventHandler[] = [];
    const add = (set: Set<EventHandler> | undefined) => {
      if (set) for (const h of set) out.push(h);
    };
    if (typeof e.actionId === 'string') {
      add(this.index.action.get(e.actionId));
      // A root scope also matches the root action's own events.
      add(this.index.root.get(e.actionId));
    }
    if (typeof e.rootId === 'string' && e.rootId !== e.actionId) add(this.index.root.get(e.rootId));
    if (typeof e.sessionId === 'string') add(this.index.session.get(e.sessionId));
    if (typeof e.agentId === 'string') add(this.index.agent.get(e.agentId));
    add(this.all);
    return out;
  }
}

/**
 * The part of a scope that matches the fewest events: one action, then a session, then a run (root),
 * then an agent. Any part would be correct, since a subscriber's parts must all match.
 */
function narrowestKey(scope: BusScope): [IndexKey, string] | undefined {
  if (scope.actionId !== undefined) return ['action', scope.actionId];
  if (scope.sessionId !== undefined) return ['session', scope.sessionId];
  if (scope.rootId !== undefined) return ['root', scope.rootId];
  if (scope.agentId !== undefined) return ['agent', scope.agentId];
  return undefined;
}

function safeCall(h: EventHandler, e: StoredEvent): void {
  try {
    h(e);
  } catch {
    // One broken subscriber must not stop delivery to the others.
  }
}
