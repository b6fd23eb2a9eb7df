import type { Deps } from '../../deps.js';
import type { PolicyVersionView } from './schemas.js';
import { readActiveVersion } from './versions.js';
import { policyVersionView } from './view.js';

/** Every version, newest first, the active one marked. */
export async function listPolicyVersions(deps: Deps): Promise<{ active_version: number | null; items: PolicyVersionView[] }> {
  const active = await readActiveVersion(deps.db.read);
  const rows = await deps.db.read.selectFrom('policy_versions').selectAll().orderBy('version', 'desc').execute();
  return { active_version: active === 0 ? null : active, items: rows.map((r) => policyVersionView(r, active)) };
}
