import { policySectionsOf } from '../../config/load.js';
import type { Actor } from '../../db/committer.js';
import type { Deps } from '../../deps.js';
import { renderPolicyDocument } from '../../policy/document.js';
import { activatePolicy } from './activate-policy.js';
import { compileVersion, requireVersion } from './versions.js';

const SYSTEM: Actor = { type: 'system', id: null };

/**
 * Decides which policy this node starts with (docs/policy.md, "Which policy is in force"). The config
 * file's policy (already compiled in deps.policy) seeds version 1 of an empty database. After that the
 * database's active version is what every node decides with: a node whose file says otherwise logs both
 * hashes and follows the database, because letting each starting node write its own file back is how
 * two nodes ended up alternating. `policy_source: file` (single-node setups) makes the file win at start
 * instead: it is applied as a new version when it differs.
 */
export async function adoptPolicyAtStart(deps: Deps): Promise<void> {
  const fromFile = deps.policy.current;
  const fileWins = deps.config.policySource === 'file';
  const r = await activatePolicy(deps, SYSTEM, 'system', {
    loaded: fromFile,
    document: renderPolicyDocument(policySectionsOf(deps.config)),
    defaultExpiryMs: deps.config.review.defaultExpiryMs,
    trigger: 'start',
    note: fileWins ? 'policy_source: file' : 'seeded from the config of the first node to start',
    when: fileWins ? 'changed' : 'empty',
  });
  if (r.version.hash === fromFile.hash) return;
  deps.logger.warn(
    { config_hash: fromFile.hash, database_hash: r.version.hash, version: r.version.version },
    "this node's config file has a different policy than the database's active version; deciding with the database's " +
      '(apply the file with "countersign policy apply", or set policy_source: file on a single node)',
  );
  deps.policy.adopt(compileVersion(await requireVersion(deps.db.read, r.version.version)), r.version.version);
}
