import type { Actor, Tx } from '../../db/committer.js';
import type { Deps } from '../../deps.js';
import { emitEvent } from '../../events/emit.js';
import { CsError } from '../../lib/errors.js';
import type { LoadedPolicy } from '../../policy/store.js';
import type { PolicyChange } from './schemas.js';
import { type PolicyTrigger, type PolicyVersionRow, readVersion } from './versions.js';
import { policyVersionView } from './view.js';

export interface Activation {
  loaded: LoadedPolicy;
  /** The document stored with the version (see policy/document.ts). */
  document: string;
  /** The default expiry the document was compiled with; stored so every node compiles the same hash. */
  defaultExpiryMs: number;
  trigger: PolicyTrigger;
  note?: string | undefined;
  /** Refuse with a conflict unless this version is still the active one (0: none yet). */
  expectedVersion?: number | undefined;
  restoredFrom?: number | undefined;
  /** 'empty': write only into a database with no version yet (seeding at start). Default: whenever the hash differs. */
  when?: 'empty' | 'changed';
}

/**
 * Makes a compiled policy the one every node decides with: a new version row, the active row moved by
 * compare-and-set, the source stored under its hash, a `policy.activated` audit entry and event, all in
 * one transaction. The active row is locked first, so concurrent applies from any number of processes
 * are serialised: the later one becomes the next version and records the earlier one as its previous
 * (an `expectedVersion` turns that into a conflict instead). A document that compiles to the active
 * hash writes nothing. After commit this node switches at once; the others follow (events/policy-watcher.ts).
 * `label` is who the actor is in the history's "by" column (an email, `cli:<user>`, `system`).
 */
export async function activatePolicy(deps: Deps, actor: Actor, label: string, a: Activation): Promise<PolicyChange> {
  const result = await deps.committer.run((tx) => activate(tx, actor, label, a));
  // Also when nothing was written but this is the active policy: a node behind by a check catches up now.
  if (result.version.hash === a.loaded.hash) deps.policy.adopt(a.loaded, result.version.version);
  return result;
}

async function activate(tx: Tx, actor: Actor, label: string, a: Activation): Promise<PolicyChange> {
  let q = tx.db.selectFrom('policy_active').select('version').where('id', '=', 1);
  if (tx.caps.lockSuffix) q = q.forUpdate();
  const activeVersion = Number((await q.executeTakeFirstOrThrow()).version);
  if (a.expectedVersion !== undefined && a.expectedVersion !== activeVersion) {
    throw new CsError('conflict', `the active policy is version ${activeVersion}, not ${a.expectedVersion}: someone changed it meanwhile`, {
      details: { active_version: activeVersion },
    });
  }
  const active = activeVersion > 0 ? await readVersion(tx.db, activeVersion) : undefined;
  if (active && (a.when === 'empty' || active.hash === a.loaded.hash)) {
    return { changed: false, version: policyVersionView(active, activeVersion), previous_version: null };
  }
  const version = activeVersion + 1;
  await storeSource(tx, a.loaded);
  const row: PolicyVersionRow = {
    version,
    hash: a.loaded.hash,
    document: a.document,
    default_expiry_ms: a.defaultExpiryMs,
    applied_at: tx.now,
    applied_by_type: actor.type,
    applied_by_id: actor.id,
    applied_by_label: label,
    trigger: a.trigger,
    note: a.note ?? null,
    restored_from: a.restoredFrom ?? null,
  };
  await tx.db.insertInto('policy_versions').values(row).execute();
  const moved = await tx.db
    .updateTable('policy_active')
    .set({ version })
    .where('id', '=', 1)
    .where('version', '=', activeVersion)
    .executeTakeFirst();
  if (Number(moved.numUpdatedRows) !== 1) throw new CsError('conflict', 'the active policy changed meanwhile; try again');
  const previous = active ? { version: activeVersion, hash: active.hash } : null;
  tx.audit({
    actor,
    event: 'policy.activated',
    data: {
      version,
      hash: a.loaded.hash,
      previous_version: previous?.version ?? null,
      previous_hash: previous?.hash ?? null,
      trigger: a.trigger,
      by: label,
      note: a.note ?? null,
      restored_from: a.restoredFrom ?? null,
      rules: a.loaded.compiled.rules.length,
      workflows: [...a.loaded.workflows.keys()],
    },
  });
  emitEvent(tx, 'policy.activated', {
    policy: { version, hash: a.loaded.hash, previous_version: previous?.version ?? null, trigger: a.trigger },
  });
  return { changed: true, version: policyVersionView(row, version), previous_version: previous?.version ?? null };
}

/** Actions point at their policy's hash; its compiled source is kept once per hash. */
async function storeSource(tx: Tx, loaded: LoadedPolicy): Promise<void> {
  const existing = await tx.db.selectFrom('policies').select('hash').where('hash', '=', loaded.hash).executeTakeFirst();
  if (existing) await tx.db.updateTable('policies').set({ last_loaded_at: tx.now }).where('hash', '=', loaded.hash).execute();
  else
    await tx.db
      .insertInto('policies')
      .values({ hash: loaded.hash, source: loaded.source, first_loaded_at: tx.now, last_loaded_at: tx.now })
      .execute();
}
