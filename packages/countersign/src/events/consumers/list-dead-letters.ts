import type { Actor } from '../../db/committer.js';
import type { EventDeadLettersTable } from '../../db/types.js';
import type { Deps } from '../../deps.js';
import type { Principal } from '../../domain/identities/principal.js';
import { CsError } from '../../lib/errors.js';
import { adminActor } from './admin-access.js';
import type { DeadLetterView } from './schemas.js';

export const MAX_DEAD_LETTER_PAGE = 1000;

export interface ListDeadLettersFilter {
  consumer?: string | undefined;
  /** Include entries already replayed (default: only those still parked). */
  all?: boolean | undefined;
  cursor?: string | undefined;
  limit?: number | undefined;
}

export function toDeadLetterView(r: EventDeadLettersTable): DeadLetterView {
  return {
    id: r.id,
    consumer: r.consumer,
    seq: Number(r.seq),
    event_type: r.event_type,
    attempts: Number(r.attempts),
    last_error: r.last_error,
    dead_lettered_at: new Date(Number(r.dead_lettered_at)).toISOString(),
    replayed_at: r.replayed_at === null ? null : new Date(Number(r.replayed_at)).toISOString(),
    replayed_by: r.replayed_by,
  };
}

/** Dead letters, oldest first, paged by id (time-ordered, so a cursor stays valid as entries are added). */
export async function listDeadLetters(
  deps: Deps,
  caller: Principal | Actor,
  f: ListDeadLettersFilter,
): Promise<{ items: DeadLetterView[]; next_cursor: string | null }> {
  adminActor(caller);
  const limit = f.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_DEAD_LETTER_PAGE) {
    throw new CsError('invalid_request', `limit must be between 1 and ${MAX_DEAD_LETTER_PAGE}`, {
      issues: [{ path: 'limit', message: 'out of range' }],
    });
  }
  let q = deps.db.read.selectFrom('event_dead_letters').selectAll();
  if (f.consumer !== undefined) q = q.where('consumer', '=', f.consumer);
  if (!f.all) q = q.where('replayed_at', 'is', null);
  if (f.cursor !== undefined) q = q.where('id', '>', f.cursor);
  const rows = await q
    .orderBy('id')
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { items: page.map(toDeadLetterView), next_cursor: rows.length > limit && last ? last.id : null };
}
