import type { Deps } from '../../deps.js';
import { CsError } from '../../lib/errors.js';
import { readActiveVersion, requireVersion } from './versions.js';
import { policyVersionView } from './view.js';

/** One version with its document; without a number, the active one (and what this node serves). */
export async function getPolicy(deps: Deps, version?: number) {
  const active = await readActiveVersion(deps.db.read);
  const wanted = version ?? active;
  if (wanted === 0) throw new CsError('not_found', 'the database holds no policy version yet (a gateway writes version 1 when it starts)');
  const row = await requireVersion(deps.db.read, wanted);
  return {
    ...policyVersionView(row, active),
    document: row.document,
    serving: { version: deps.policy.version, hash: deps.policy.current.hash },
  };
}
