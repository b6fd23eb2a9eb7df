import { type FSWatcher, readFileSync, watch } from 'node:fs';
import { ConfigFileSchema } from '../../config/schema.js';
import type { Deps } from '../../deps.js';
import { CsError } from '../../lib/errors.js';
import { parsePolicyDocument } from '../../policy/document.js';
import type { LoadedPolicy } from '../../policy/store.js';
import { applyPolicy } from './apply-policy.js';

/**
 * Re-reads the policy from the config file and applies it as a new version (trigger `reload`), so a
 * file-based single node works as it always did: edit the file (or send SIGHUP) and the new policy is in
 * force, here and on every node sharing the database. A refused policy leaves the one in force untouched.
 * A file with neither `policy:` nor `workflows:` changes nothing: reloading it must not replace a policy
 * an admin applied with the built-in defaults.
 */
export async function reloadPolicy(deps: Deps): Promise<LoadedPolicy> {
  const file = deps.config.configFile;
  if (!file) throw new CsError('invalid_request', 'the gateway was started without a config file, so there is no policy to reload');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CsError('invalid_request', `cannot read config file ${file}: ${(e as Error).message}`);
  }
  const document = parsePolicyDocument(text, Object.keys(ConfigFileSchema.shape));
  if (!document.definesPolicy) {
    deps.logger.info({ file }, 'the config file defines no policy; the active policy version stays in force');
    return deps.policy.current;
  }
  const change = await applyPolicy(deps, { type: 'system', id: null }, 'system', {
    document,
    trigger: 'reload',
    note: `reloaded from ${file}`,
  });
  deps.logger.info({ version: change.version.version, hash: change.version.hash, changed: change.changed }, 'policy reloaded');
  return deps.policy.current;
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
