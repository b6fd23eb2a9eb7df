import type { Tx } from '../../../db/committer.js';
import type { UsersTable } from '../../../db/types.js';
import type { Deps } from '../../../deps.js';
import { CsError } from '../../../lib/errors.js';
import { newId } from '../../../lib/ids.js';
import { parseInput } from '../../validate.js';
import { bumpIdentityEpoch } from '../epoch.js';
import { findUser } from '../lookup.js';
import type { UserPrincipal } from '../principal.js';
import { readDelegations } from './read-delegations.js';
import { AdminCreateDelegationBody, CreateDelegationBody, type DelegationView } from './schemas.js';

/** The longest a delegation may run: an absence, not a standing second identity. */
export const MAX_DELEGATION_MS = 90 * 24 * 3600_000;
/** How far ahead one may be planned. */
export const MAX_DELEGATION_LEAD_MS = 365 * 24 * 3600_000;

const DAY_MS = 24 * 3600_000;

/**
 * Names a delegate for a period (out of office): from `starts_at` (default now) until `ends_at`, the
 * delegate may vote wherever the delegator could, within the delegate's own limits (see
 * domain/workflow/delegation.ts). `as: 'self'`: the caller delegates their own vote (the body names no
 * delegator); `as: 'admin'`: an admin delegates someone's vote for them (e.g. a person already away).
 *
 * Refused: delegating to oneself, to or from a disabled person, to a viewer (a delegate must be able to
 * review) or from one (a viewer has no vote to delegate), a period that is over, longer than 90 days or
 * more than a year ahead, and a second delegation to the same person overlapping one not revoked. One
 * transaction with its `delegation.created` audit entry; it serialises on the identity epoch row, so two
 * overlapping creations cannot both pass the overlap check.
 */
export async function createDelegation(deps: Deps, by: UserPrincipal, body: unknown, as: 'self' | 'admin'): Promise<DelegationView> {
  const input =
    as === 'admin' ? parseInput(AdminCreateDelegationBody, body) : { ...parseInput(CreateDelegationBody, body), delegator: null };
  const startsAt = input.starts_at === undefined ? null : Date.parse(input.starts_at);
  const endsAt = Date.parse(input.ends_at);
  return deps.committer.run(async (tx) => {
    await bumpIdentityEpoch(tx);
    const delegator = input.delegator === null ? await findUser(tx.db, by.id) : await findUser(tx.db, input.delegator);
    const delegate = await findUser(tx.db, input.delegate);
    const starts = startsAt ?? tx.now;
    checkPeriod(starts, endsAt, tx.now);
    checkPeople(delegator, delegate, by);
    await refuseOverlap(tx, delegator, delegate, starts, endsAt);
    const row = {
      id: newId(),
      delegator_id: delegator.id,
      delegate_id: delegate.id,
      starts_at: starts,
      ends_at: endsAt,
      reason: input.reason ?? null,
      created_at: tx.now,
      created_by_id: by.id,
      revoked_at: null,
      revoked_by_id: null,
    };
    await tx.db.insertInto('delegations').values(row).execute();
    tx.audit({
      actor: { type: 'user', id: by.id },
      event: 'delegation.created',
      data: {
        delegation_id: row.id,
        delegator: delegator.email,
        delegate: delegate.email,
        starts_at: new Date(starts).toISOString(),
        ends_at: new Date(endsAt).toISOString(),
        reason: row.reason,
        by: by.email,
      },
    });
    const [view] = await readDelegations(tx.db, tx.now, { id: row.id });
    if (!view) throw new CsError('internal', `delegation ${row.id} was not found in the transaction that created it`);
    return view;
  });
}

function checkPeriod(starts: number, ends: number, now: number): void {
  const bad = (path: string, message: string) => new CsError('invalid_request', `${path} ${message}`, { issues: [{ path, message }] });
  if (ends <= now) throw bad('ends_at', 'must be in the future');
  if (ends <= starts) throw bad('ends_at', 'must be after starts_at');
  if (ends - starts > MAX_DELEGATION_MS) throw bad('ends_at', `must be at most ${MAX_DELEGATION_MS / DAY_MS} days after starts_at`);
  if (starts - now > MAX_DELEGATION_LEAD_MS) throw bad('starts_at', `must be at most ${MAX_DELEGATION_LEAD_MS / DAY_MS} days ahead`);
}

function checkPeople(delegator: UsersTable, delegate: UsersTable, by: UserPrincipal): void {
  if (delegator.id === delegate.id) {
    throw new CsError('invalid_request', 'you cannot delegate to yourself: name another person as delegate', {
      issues: [{ path: 'delegate', message: 'the delegator themselves' }],
    });
  }
  if (delegator.disabled_at !== null) throw new CsError('conflict', `${delegator.email} is disabled: their vote cannot be delegated`);
  if (delegate.disabled_at !== null) throw new CsError('conflict', `${delegate.email} is disabled and cannot be a delegate`);
  if (delegate.role === 'viewer') {
    throw new CsError('invalid_request', `${delegate.email} is a viewer and cannot review: a delegate must be a reviewer or an admin`, {
      issues: [{ path: 'delegate', message: 'a viewer' }],
    });
  }
  if (delegator.role === 'viewer') {
    const whose = delegator.id === by.id ? 'you are a viewer' : `${delegator.email} is a viewer`;
    throw new CsError('invalid_request', `${whose}: viewers have no vote to delegate`);
  }
}

async function refuseOverlap(tx: Tx, delegator: UsersTable, delegate: UsersTable, starts: number, ends: number): Promise<void> {
  const clash = await tx.db
    .selectFrom('delegations')
    .select(['id', 'ends_at'])
    .where('delegator_id', '=', delegator.id)
    .where('delegate_id', '=', delegate.id)
    .where('revoked_at', 'is', null)
    .where('starts_at', '<', ends)
    .where('ends_at', '>', starts)
    .executeTakeFirst();
  if (clash) {
    throw new CsError(
      'conflict',
      `${delegate.email} already holds a delegation from ${delegator.email} for part of that period (${clash.id}, until ${new Date(Number(clash.ends_at)).toISOString()}); revoke it first`,
      { details: { delegation_id: clash.id } },
    );
  }
}
