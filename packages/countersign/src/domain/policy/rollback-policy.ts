import type { Actor } from '../../db/committer.js';
import type { Deps } from '../../deps.js';
import { activatePolicy } from './activate-policy.js';
import type { PolicyChange } from './schemas.js';
import { compileVersion, requireVersion } from './versions.js';

/**
 * Makes an earlier version's document the one in force again, as a new version with trigger
 * `rollback` (history is append-only, so what was in force when stays readable). It compiles with the
 * earlier version's default expiry, so its hash is the earlier hash; rolling back to what is already
 * active writes nothing.
 */
export async function rollbackPolicy(
  deps: Deps,
  actor: Actor,
  label: string,
  input: { version: number; note?: string | undefined; expectedVersion?: number | undefined },
): Promise<PolicyChange> {
  const target = await requireVersion(deps.db.read, input.version);
  return activatePolicy(deps, actor, label, {
    loaded: compileVersion(target),
    document: target.document,
    defaultExpiryMs: Number(target.default_expiry_ms),
    trigger: 'rollback',
    note: input.note,
    expectedVersion: input.expectedVersion,
    restoredFrom: input.version,
  });
}
