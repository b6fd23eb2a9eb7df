import { type Action, type Client, isDecided } from '@countersign/sdk';
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { ProgressReporter } from './progress.js';

export interface HoldOptions {
  /** Longest wait; then the call answers "pending". */
  budgetMs: number;
  intervalMs: number;
  clock: Clock;
  /** The downstream call's own signal: the client cancelled or went away. */
  signal: AbortSignal;
  /** Present when the client sent a progress token. */
  progress: ProgressReporter | undefined;
  /** The progress message for the action as last seen. */
  describe: (action: Action) => string;
}

export type HoldOutcome = { kind: 'decided'; action: Action } | { kind: 'pending'; action: Action } | { kind: 'cancelled'; action: Action };

/**
 * Holds a pending action's call until a decision, the budget, or the client's cancellation,
 * whichever comes first. Waiting is the SDK's; time (budget, progress ticks) is on
 * the injected clock, so a hold of many minutes is testable in milliseconds.
 */
export async function holdForDecision(cs: Client, action: Action, o: HoldOptions): Promise<HoldOutcome> {
  const stop = new AbortController();
  const abort = () => stop.abort();
  o.signal.addEventListener('abort', abort, { once: true });
  const budget = o.clock.setTimeout(abort, o.budgetMs);
  const ticker = o.progress ? startTicker(o, action) : undefined;
  let latest = action;
  try {
    if (!o.signal.aborted) latest = await waitUntilDecided(cs, action, stop.signal);
  } finally {
    budget.cancel();
    ticker?.cancel();
    o.signal.removeEventListener('abort', abort);
  }
  if (o.signal.aborted) return { kind: 'cancelled', action: latest };
  return isDecided(latest.status) ? { kind: 'decided', action: latest } : { kind: 'pending', action: latest };
}

/**
 * Waits (the SDK's event stream, with long-poll fallback) until the action is decided or `signal`
 * aborts, and returns it as last seen. An error after the abort is the abort, not a gateway fault.
 */
async function waitUntilDecided(cs: Client, action: Action, signal: AbortSignal): Promise<Action> {
  try {
    return await cs.waitForDecision(action.id, { signal });
  } catch (e) {
    if (signal.aborted) return action;
    throw e;
  }
}

/** Reports at once, then every interval: elapsed seconds of the budget's seconds. */
function startTicker(o: HoldOptions, action: Action): TimerHandle {
  const started = o.clock.now();
  const total = o.budgetMs / 1000;
  let handle: TimerHandle | undefined;
  let cancelled = false;
  const tick = () => {
    if (cancelled) return;
    const elapsed = (o.clock.now() - started) / 1000;
    o.progress?.waiting(elapsed, total, o.describe(action));
    handle = o.clock.setTimeout(tick, o.intervalMs);
  };
  tick();
  return {
    cancel() {
      cancelled = true;
      handle?.cancel();
    },
  };
}
