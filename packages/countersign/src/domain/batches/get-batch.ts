import type { Deps } from '../../deps.js';
import { actionOf } from '../../events/types.js';
import { CsError } from '../../lib/errors.js';
import { isId } from '../../lib/ids.js';
import { selectActionRows } from '../actions/action-rows.js';
import type { ActionView } from '../actions/schemas.js';
import { isDecided } from '../actions/status.js';
import { toActionView } from '../actions/view.js';
import type { Principal } from '../identities/principal.js';
import { toBatch } from './propose-batch.js';
import { type BatchView, MAX_BATCH } from './schemas.js';

async function loadBatch(deps: Deps, principal: Principal, batchId: string): Promise<ActionView[]> {
  if (!isId(batchId)) throw new CsError('not_found', `no batch with id ${batchId}`);
  let q = selectActionRows(deps.db.read).where('batch_id', '=', batchId).orderBy('id').limit(MAX_BATCH);
  if (principal.type === 'agent') q = q.where('agent_id', '=', principal.id);
  const rows = await q.execute();
  if (rows.length === 0) throw new CsError('not_found', `no batch with id ${batchId}`);
  const reviews = await deps.db.read
    .selectFrom('reviews')
    .selectAll()
    .where(
      'action_id',
      'in',
      rows.map((r) => r.id),
    )
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map((r) =>
    toActionView(
      r,
      reviews.filter((v) => v.action_id === r.id),
    ),
  );
}

/** The batch now, or (with waitMs) once every action in it has its answer or the wait runs out. */
export async function getBatch(deps: Deps, principal: Principal, batchId: string, waitMs = 0, signal?: AbortSignal): Promise<BatchView> {
  const first = await loadBatch(deps, principal, batchId);
  const open = new Set(first.filter((a) => !isDecided(a.status)).map((a) => a.id));
  if (open.size === 0 || waitMs <= 0) return toBatch(batchId, first);
  let wake: () => void = () => undefined;
  const woken = new Promise<void>((r) => {
    wake = r;
  });
  const unsubscribes = [...open].map((id) =>
    deps.bus.subscribeAction(id, (e) => {
      const view = actionOf(e);
      if (!view || !isDecided(view.status)) return;
      open.delete(id);
      if (open.size === 0) wake();
    }),
  );
  const timer = deps.clock.setTimeout(wake, waitMs);
  signal?.addEventListener('abort', wake, { once: true });
  try {
    // A decision may have landed between the first read and the subscriptions.
    const again = await loadBatch(deps, principal, batchId);
    if (again.every((a) => isDecided(a.status))) return toBatch(batchId, again);
    deps.metrics.waiters.inc({ kind: 'long_poll' });
    try {
      await woken;
    } finally {
      deps.metrics.waiters.dec({ kind: 'long_poll' });
    }
    return toBatch(batchId, await loadBatch(deps, principal, batchId));
  } finally {
    for (const u of unsubscribes) u();
    timer.cancel();
    signal?.removeEventListener('abort', wake);
  }
}
