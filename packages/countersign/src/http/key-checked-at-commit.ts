import type { FastifyRequest } from 'fastify';
import { EpochCondition, StalePrincipal } from '../db/epoch-condition.js';
import type { Deps } from '../deps.js';
import { readIdentityEpoch } from '../domain/identities/epoch.js';
import { bearerToken } from './auth.js';

/**
 * A write route whose API key is checked at commit (RouteSpec.keyCheckedAtCommit): a remembered key's
 * principal is used without first reading the identity epoch (its secret is still checked, constant time),
 * and every write the route commits is held to the epoch the principal was remembered at (EpochCondition):
 * the appending statement reads the epoch at commit anyway (EPOCH in db/append-logs.ts), and a write whose
 * epoch moved is rolled back before COMMIT. That saves the epoch's round trip on every such write while a
 * revocation, on any node, still stops the next write, and one racing the write stops it too.
 *
 * Only a success whose commit proved the epoch is answered as is. Any other answer (an error, or a success
 * that committed nothing under the condition) first confirms the epoch with the ordinary read, so a revoked
 * key learns nothing it could not before. When the epoch moved, the request starts again the ordinary way
 * (read the epoch, re-read the key): a revoked key gets its 401, a valid one the route's answer for its
 * principal as it now stands. Nothing was committed under the moved epoch, so running the route again
 * repeats no write.
 *
 * Returns the route's answer, or null when the request must take the ordinary path (no API key, a key not
 * remembered, or the epoch moved).
 */
export async function answerWithKeyCheckedAtCommit(
  deps: Deps,
  request: FastifyRequest,
  route: (deps: Deps) => Promise<unknown>,
): Promise<{ answer: unknown } | null> {
  if (request.headers.authorization === undefined) return null;
  const key = deps.keys.remembered(bearerToken(request), deps.clock.now());
  if (!key) return null;
  const condition = new EpochCondition(key.epoch);
  request.principal = key.principal;
  let answer: unknown;
  try {
    answer = await route({ ...deps, committer: deps.committer.holding(condition) });
  } catch (error) {
    if (!(error instanceof StalePrincipal) && (await epochStands(deps, key.epoch))) throw error;
    return startAgain(request, condition);
  }
  if (condition.proved && !condition.broken) return { answer };
  if (!condition.broken && (await epochStands(deps, key.epoch))) return { answer };
  return startAgain(request, condition);
}

async function epochStands(deps: Deps, epoch: number): Promise<boolean> {
  return (await readIdentityEpoch(deps.db.read)) === epoch;
}

/**
 * Running the route again is safe only when nothing of it committed: a route that committed once under the
 * epoch and then found it moved (none of today's routes commits twice) answers 401 instead of repeating that
 * first write.
 */
function startAgain(request: FastifyRequest, condition: EpochCondition): null {
  if (condition.proved) throw new StalePrincipal();
  request.principal = null;
  return null;
}
