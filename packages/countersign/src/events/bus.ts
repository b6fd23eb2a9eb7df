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

/**
 * Members (the bus's handlers, the open event streams) indexed by the narrowest part of their scope, so
 * an event finds the members it could concern with a few map lookups, however many wait on other
 * actions or agents. Each member is in one list, so it is found once per event. Lists, not Sets: most
 * keys hold one member, and an array of one is a fraction of a Set's size when 10,000 are open.
 */
export class ScopeIndex<T> {
  private readonly unscoped: T[] = [];
  private readonly index: Record<IndexKey, Map<string, T[]>> = {
    action: new Map(),
    session: new Map(),
    root: new Map(),
    agent: new Map(),
  };
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(member: T, scope: BusScope): void {
    const narrowest = narrowestKey(scope);
    if (narrowest === undefined) this.unscoped.push(member);
    else {
      const [key, id] = narrowest;
      const list = this.index[key].get(id);
      if (list) list.push(member);
      else this.index[key].set(id, [member]);
    }
    this.count += 1;
  }

  /** Removes one entry of `member` added with `scope`; false if there was none. */
  delete(member: T, scope: BusScope): boolean {
    const narrowest = narrowestKey(scope);
    const list = narrowest === undefined ? this.unscoped : this.index[narrowest[0]].get(narrowest[1]);
    const i = list ? list.indexOf(member) : -1;
    if (!list || i < 0) return false;
    list.splice(i, 1);
    if (list.length === 0 && narrowest !== undefined) this.index[narrowest[0]].delete(narrowest[1]);
    this.count -= 1;
    return true;
  }

  /** The members `e` could concern: a new array, so members may come and go while it is walked. */
  matching(e: StoredEvent): T[] {
    const out: T[] = [];
    const add = (list: T[] | undefined) => {
      if (list) for (const m of list) out.push(m);
    };
    if (typeof e.actionId === 'string') {
      add(this.index.action.get(e.actionId));
      // A root scope also matches the root action's own events.
      add(this.index.root.get(e.actionId));
    }
    if (typeof e.rootId === 'string' && e.rootId !== e.actionId) add(this.index.root.get(e.rootId));
    if (typeof e.sessionId === 'string') add(this.index.session.get(e.sessionId));
    if (typeof e.agentId === 'string') add(this.index.agent.get(e.agentId));
    add(this.unscoped);
    return out;
  }
}

/**
 * In-process fan-out of committed events. It is fed only after a transaction
 * commits (from the outbox rows the committer wrote), so a subscriber never
 * sees an event whose state change could still roll back. Notifiers, SSE
 * streams and long-poll waiters all subscribe here; domain code never calls them.
 *
 * Subscribers with a scope are indexed by its narrowest part (ScopeIndex), so an event costs a few map
 * lookups and reaches only the subscribers it could concern. Each subscriber still gets its events one
 * by one in publish (commit) order.
 */
export class EventBus {
  private readonly subscribers = new ScopeIndex<EventHandler>();

  /** Every event; with a scope, at least every event that scope can match (and few others). */
  subscribe(handler: EventHandler, scope: BusScope = {}): () => void {
    // The scope's parts as they are now: the index entry is found again by them.
    const at: BusScope = { ...scope };
    this.subscribers.add(handler, at);
    return () => void this.subscribers.delete(handler, at);
  }

  /** The events of one action (a long-poll waiting for its decision). */
  subscribeAction(actionId: string, handler: EventHandler): () => void {
    return this.subscribe(handler, { actionId });
  }

  publish(events: readonly StoredEvent[]): void {
    for (const event of events) {
      // Taken before any handler runs: one that subscribes or unsubscribes while called changes the next event only.
      for (const h of this.subscribers.matching(event)) safeCall(h, event);
    }
  }

  listenerCount(): number {
    return this.subscribers.size;
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
