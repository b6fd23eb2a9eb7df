import type { Deps } from '../../deps.js';
import { actionOf } from '../../events/types.js';
import { CsError } from '../../lib/errors.js';
import { isId } from '../../lib/ids.js';
import type { Principal } from '../identities/principal.js';
import type { ActionView } from './schemas.js';
import { isDecided } from './status.js';
import { loadActionView } from './view.js';

/** People see every action; an agent sees only its own (others read as absent). */
export async function getAction(deps: Deps, principal: Principal, id: string): Promise<ActionView> {
  const view = isId(id) ? await loadActionView(deps.db.read, id) : undefined;
  if (!view || (principal.type === 'agent' && view.agent.id !== principal.id)) {
    throw new CsError('not_found', `no action with id ${id}`);
  }
  return view;
}

/**
 * Long-poll: answers at once if the action is decided, otherwise holds until a
 * committed event for it arrives or `waitMs` runs out, then answers the
 * current state. Subscribing before the first read closes the gap where a
 * decision could land between the read and the subscription.
 *
 * Thousands may be parked at once, so a parked wait holds only its subscription, its timer and its
 * abort listener: the first read is answered or dropped before parking (see `decidedNow`).
 */
export async function waitForDecision(
  deps: Deps,
  principal: Principal,
  id: string,
  waitMs: number,
  signal?: AbortSignal,
): Promise<ActionView> {
  if (waitMs <= 0 || !isId(id)) return getAction(deps, principal, id);
  const parked = park(deps, id, waitMs, signal);
  try {
    const now = await decidedNow(deps, principal, id);
    if (now) return now;
    deps.metrics.waiters.inc({ kind: 'long_poll' });
    let decided: ActionView | undefined;
    try {
      decided = await parked.woken;
    } finally {
      deps.metrics.waiters.dec({ kind: 'long_poll' });
    }
    return decided ?? (await getAction(deps, principal, id));
  } finally {
    parked.cancel();
  }
}

/** The action if it is already decided; undefined (nothing kept) if it is still open. */
async function decidedNow(deps: Deps, principal: Principal, id: string): Promise<ActionView | undefined> {
  const first = await getAction(deps, principal, id);
  return isDecided(first.status) ? first : undefined;
}

/**
 * Wakes on the first committed event that decides the action (with the action as it was decided, so
 * the answer needs no other read), when the wait runs out or when the signal aborts (undefined then).
 */
function park(
  deps: Deps,
  id: string,
  waitMs: number,
  signal: AbortSignal | undefined,
): { woken: Promise<ActionView | undefined>; cancel(): void } {
  let wake: (view: ActionView | undefined) => void = () => undefined;
  const woken = new Promise<ActionView | undefined>((r) => {
    wake = r;
  });
  const unsubscribe = deps.bus.subscribeAction(id, (e) => {
    const view = actionOf(e);
    // Progress inside a review (a vote short of quorum, an escalation) is not an answer.
    if (view && isDecided(view.status)) wake(view);
  });
  const timeUp = () => wake(undefined);
  const timer = deps.clock.setTimeout(timeUp, waitMs);
  signal?.addEventListener('abort', timeUp, { once: true });
  if (signal?.aborted) timeUp();
  return {
    woken,
    cancel() {
      unsubscribe();
      timer.cancel();
      signal?.removeEventListener('abort', timeUp);
    },
  };
}
