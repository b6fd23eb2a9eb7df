import { type Action, type Client, isDecided } from '@countersign/sdk';
import type { Clock, TimerHandle } from '../lib/clock.js';
import { toCsError } from './errors.js';
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
 * whichever comes first. Waiting is the gateway's long-poll; time (budget, progress ticks) is on
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

/** Longest single long-poll; the gateway allows up to limits.max_wait_seconds (60 by default). */
const LONG_POLL_SECONDS = 25;

/**
 * Long-polls the action until it is decided or `signal` aborts, and returns it as last seen.
 * Every request carries the signal, so an abort ends the wait at once whatever step it is in.
 * (The SDK's waitForDecision is not used: an abort during its first read is missed by the event
 * stream that follows, which then waits for a decision that may never come.)
 */
async function waitUntilDecided(cs: Client, action: Action, signal: AbortSignal): Promise<Action> {
  let latest = action;
  let seconds = LONG_POLL_SECONDS;
  let backoffMs = 100;
  while (!signal.aborted) {
    try {
      latest = await cs.request<Action>('GET', `/v1/actions/${encodeURIComponent(action.id)}?wait=${seconds}`, undefined, { signal });
      if (isDecided(latest.status)) return latest;
      backoffMs = 100;
    } catch (e) {
      if (signal.aborted) break;
      const code = toCsError(e).code;
      if (code === 'not_found' || code === 'unauthenticated' || code === 'forbidden') throw e;
      // A gateway configured with a shorter maximum wait says so: ask for less.
      if (code === 'invalid_request' && seconds > 1) seconds = Math.max(1, Math.floor(seconds / 2));
      else await pause(backoffMs, signal);
      backoffMs = Math.min(backoffMs * 2, 5000);
    }
  }
  return latest;
}

/** A network back-off (real time: it paces requests to a gateway that is down, not the budget). */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
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
