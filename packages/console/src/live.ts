import type { EventType } from '@countersign/sdk';
import { createContext, useContext, useEffect, useRef } from 'react';

/** The events that change what a reviewer sees: an action arriving, progressing or being decided. */
export const LIVE_EVENTS = [
  'action.created',
  'action.updated',
  'action.escalated',
  'action.approved',
  'action.denied',
  'action.expired',
  'action.cancelled',
  'action.redeemed',
  'action.executed',
  'action.failed',
] as const satisfies readonly EventType[];

export interface LiveChange {
  type: EventType;
  actionId: string | null;
}

/** One event stream per tab (GET /v1/events with the session cookie), fanned out to the components that listen. */
export class LiveHub {
  private readonly target = new EventTarget();
  private source: EventSource | null = null;

  start(): void {
    if (this.source) return;
    const source = new EventSource('/v1/events');
    for (const type of LIVE_EVENTS) {
      source.addEventListener(type, (e) => {
        let actionId: string | null = null;
        try {
          const data: unknown = JSON.parse((e as MessageEvent<string>).data);
          if (typeof data === 'object' && data !== null && 'action_id' in data && typeof data.action_id === 'string')
            actionId = data.action_id;
        } catch {
          // a message that is not JSON still means something changed
        }
        this.target.dispatchEvent(new CustomEvent<LiveChange>('change', { detail: { type, actionId } }));
      });
    }
    // An ended stream (the session was revoked or timed out): the next request finds out and signs out.
    source.addEventListener('reset', () =>
      this.target.dispatchEvent(new CustomEvent<LiveChange>('change', { detail: { type: 'action.updated', actionId: null } })),
    );
    this.source = source;
  }

  stop(): void {
    this.source?.close();
    this.source = null;
  }

  subscribe(fn: (c: LiveChange) => void): () => void {
    const listener = (e: Event) => fn((e as CustomEvent<LiveChange>).detail);
    this.target.addEventListener('change', listener);
    return () => this.target.removeEventListener('change', listener);
  }
}

export const LiveContext = createContext<LiveHub | null>(null);

/** Calls `fn` (at most every 150 ms) when an action changes; `only` limits it to one action. */
export function useLive(fn: () => void, only?: string): void {
  const hub = useContext(LiveContext);
  const latest = useRef(fn);
  latest.current = fn;
  useEffect(() => {
    if (!hub) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const off = hub.subscribe((c) => {
      if (only !== undefined && c.actionId !== null && c.actionId !== only) return;
      if (timer !== undefined) return;
      timer = setTimeout(() => {
        timer = undefined;
        latest.current();
      }, 150);
    });
    return () => {
      off();
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [hub, only]);
}
