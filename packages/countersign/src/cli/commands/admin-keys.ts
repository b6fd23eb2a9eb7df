import type { Command } from 'commander';
import { issueKey } from '../../domain/identities/issue-key.js';
import { listKeys } from '../../domain/identities/list-keys.js';
import { revokeKey } from '../../domain/identities/revoke-key.js';
import { type DataOptions, withLocalDeps } from '../context.js';
import { safeJson, table } from '../output.js';
import { dataOptions } from './admin-options.js';

/** `countersign keys …`: API keys (prefixes only; a secret is shown once, when issued). Every change is audited. */
export function registerKeys(program: Command, out: (s: string) => void, err: (s: string) => void): void {
  const keys = program.command('keys').description('manage API keys');

  dataOptions(keys.command('ls').description('list keys (prefixes only)'))
    .option('--for <who>', 'only the keys of this person (email) or agent (name)')
    .option('--json', 'print JSON')
    .action(async (o: DataOptions & { for?: string; json?: boolean }) => {
      const items = await withLocalDeps(o, (deps) => listKeys(deps, o.for));
      if (o.json) return out(safeJson(items));
      if (items.length === 0) return out('no keys');
      out(
        table([
          ['PREFIX', 'TYPE', 'FOR', 'STATUS', 'CREATED', 'LABEL'],
          ...items.map((k) => [
            k.prefix,
            k.principal_type,
            k.principal,
            k.revoked_at ? `revoked ${k.revoked_at}` : 'active',
            k.created_at,
            k.label ?? '',
          ]),
        ]),
      );
    });

  dataOptions(keys.command('issue <who>').description('a new key for an existing person (email) or agent (name); printed once'))
    .option('--label <text>', 'what the key is for (shown by keys ls)')
    .action(async (who: string, o: DataOptions & { label?: string }) => {
      const k = await withLocalDeps(o, (deps, actor) => issueKey(deps, actor, { for: who, ...(o.label ? { label: o.label } : {}) }));
      err(`issued a key for ${k.principalType} ${k.principal}; key prefix ${k.keyPrefix}. The key is shown once:`);
      out(k.apiKey);
    });

  dataOptions(keys.command('revoke <prefix>').description('revoke a key by its prefix (cs_…)')).action(
    async (prefix: string, o: DataOptions) => {
      const r = await withLocalDeps(o, (deps, actor) => revokeKey(deps, actor, prefix));
      out(`revoked ${r.prefix} (${r.principalType} ${r.principalId})`);
      if (r.remainingKeys === 0 && r.liveGrants > 0) {
        // Grants belong to the person, not the key: without this, an offboarding could stop here believing it was done.
        err(
          `warning: that was their last key, but the ${r.liveGrants} live grant(s) they created still approve; ` +
            `to stop those too, run "countersign users disable <email>" (or revoke the grants)`,
        );
      }
    },
  );
}
