import { type FSWatcher, watch } from 'node:fs';
import { parseConfigFile, policySection } from '../config/load.js';
import type { Deps } from '../deps.js';
import { CsError } from '../lib/errors.js';
import { type LoadedPolicy, loadPolicy } from './store.js';

/**
 * Stores the policy's source under its hash (actions point at it) and audits
 * a change of the policy in force. Restarting with the same policy is not a change.
 */
export async function recordPolicy(deps: Deps, loaded: LoadedPolicy, trigger: 'start' | 'reload'): Promise<boolean> {
  return deps.committer.run(async (tx) => {
    const latest = await tx.db.selectFrom('policies').select('hash').orderBy('last_loaded_at', 'desc').limit(1).executeTakeFirst();
    const changed = latest?.hash !== loaded.hash;
    const existing = await tx.db.selectFrom('policies').select('hash').where('hash', '=', loaded.hash).executeTakeFirst();
    if (existing) await tx.db.updateTable('policies').set({ last_loaded_at: tx.now }).where('hash', '=', loaded.hash).execute();
    else
      await tx.db
        .insertInto('policies')
        .values({ hash: loaded.hash, source: loaded.source, first_loaded_at: tx.now, last_loaded_at: tx.now })
        .execute();
    if (changed) {
      tx.audit({
        actor: { type: 'system', id: null },
        event: 'policy.loaded',
        data: {
          hash: loaded.hash,
          previous: latest?.hash ?? null,
          trigger,
          rules: loaded.compiled.rules.length,
          workflows: [...loaded.workflows.keys()],
        },
      });
    }
    return changed;
  });
}

/** Re-reads the policy from the config file; a refused policy leaves the one in force untouched. */
export async function reloadPolicy(deps: Deps): Promise<LoadedPolicy> {
  const file = deps.config.configFile;
  if (!file) throw new CsError('invalid_request', 'the gateway was started without a config file, so there is no policy to reload');
  const next = loadPolicy(policySection(parseConfigFile(file)), deps.config.review.defaultExpiryMs);
  await recordPolicy(deps, next, 'reload');
  deps.policy.replace(next);
  deps.logger.info({ hash: next.hash, rules: next.compiled.rules.length }, 'policy reloaded');
  return next;
}

/** Reloads on SIGHUP and when the config file changes; returns a function that stops both. */
export function watchPolicy(deps: Deps): () => void {
  const file = deps.config.configFile;
  if (!file) return () => undefined;
  let timer: NodeJS.Timeout | undefined;
  const reload = () => {
    clearTimeout(timer);
    // Editors write in several steps; wait for the file to settle.
    timer = setTimeout(() => {
      reloadPolicy(deps).catch((err: unknown) =>
        deps.logger.error({ err: (err as Error).message }, 'policy reload refused; the previous policy stays in force'),
      );
    }, 200);
  };
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(file, reload);
  } catch (err) {
    deps.logger.warn({ err }, 'cannot watch the config file; reload with SIGHUP');
  }
  process.on('SIGHUP', reload);
  return () => {
    clearTimeout(timer);
    watcher?.close();
    process.off('SIGHUP', reload);
  };
}
