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
 */
export async function waitForDecision(
  deps: Deps,
  principal: Principal,
  id: string,
  waitMs: number,
  signal?: AbortSignal,
): Promise<ActionView> {
  let wake: (() => void) | undefined;
  const woken = new Promise<void>((r) => {
    wake = r;
  });
  // The committed event carries the action as it was decided, so a woken waiter answers without another read.
  let decided: ActionView | undefined;
  const unsubscribe = isId(id)
    ? deps.bus.subscribeAction(id, (e) => {
        const view = actionOf(e);
        // Progress inside a review (a vote short of quorum, an escalation) is not an answer.
        if (!view || !isDecided(view.status)) return;
        decided = view;
        wake?.();
      })
    : () => false;
  const timer = deps.clock.setTimeout(() => wake?.(), waitMs);
  const onAbort = () => wake?.();
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) onAbort();
  try {
    const first = await getAction(deps, principal, id);
    if (isDecided(first.status) || waitMs <= 0) return first;
    deps.metrics.waiters.inc({ kind: 'long_poll' });
    try {
      await woken;
    } finally {
      deps.metrics.waiters.dec({ kind: 'long_poll' });
    }
    return decided ?? (await getAction(deps, principal, id));
  } finally {
    unsubscribe();
    timer.cancel();
    signal?.removeEventListener('abort', onAbort);
  }
}
