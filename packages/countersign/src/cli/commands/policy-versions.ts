import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ConfigFileSchema } from '../../config/schema.js';
import { applyPolicy } from '../../domain/policy/apply-policy.js';
import { getPolicy } from '../../domain/policy/get-policy.js';
import { listPolicyVersions } from '../../domain/policy/list-policy-versions.js';
import { rollbackPolicy } from '../../domain/policy/rollback-policy.js';
import type { PolicyChange } from '../../domain/policy/schemas.js';
import { CsError } from '../../lib/errors.js';
import { parsePolicyDocument } from '../../policy/document.js';
import { type DataOptions, withLocalDeps } from '../context.js';
import { safeJson, safeLine, safeText, table } from '../output.js';
import { dataOptions } from './admin-options.js';

type ChangeOptions = DataOptions & { note?: string; ifVersion?: string };

function whole(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new CsError('invalid_request', `${flag} must be a version number, got "${text}"`);
  return Number(text);
}

function report(change: PolicyChange, out: (s: string) => void): void {
  const v = change.version;
  if (!change.changed) {
    out(`unchanged: version ${v.version} (${v.hash.slice(0, 12)}) is already the active policy`);
    return;
  }
  const from = change.previous_version === null ? '' : ` (was version ${change.previous_version})`;
  out(`version ${v.version} is now the active policy${from}: ${v.hash.slice(0, 12)}; running gateways switch within a second`);
}

/** `countersign policy apply | history | rollback | show`: the versioned policy every node decides with, on the database. */
export function registerPolicyVersions(policy: Command, out: (s: string) => void, err: (s: string) => void): void {
  dataOptions(policy.command('apply <file>').description('compile a policy document and make it the version every node decides with'))
    .option('--note <text>', 'why, for the history')
    .option('--if-version <n>', 'refuse (exit 6) unless version n is still the active one')
    .action(async (file: string, o: ChangeOptions) => {
      const path = resolve(file);
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (e) {
        throw new CsError('invalid_request', `cannot read ${path}: ${(e as Error).message}`);
      }
      // Compiled before the database is opened: a refused document names every problem and changes nothing.
      const document = parsePolicyDocument(text, Object.keys(ConfigFileSchema.shape));
      if (document.ignored.length > 0) err(`using the policy: and workflows: sections; ignoring ${document.ignored.join(', ')}`);
      const expectedVersion = whole(o.ifVersion, '--if-version');
      const change = await withLocalDeps(o, (deps, actor) =>
        applyPolicy(deps, actor, actor.id ?? 'cli', { document, note: o.note, expectedVersion }),
      );
      report(change, out);
    });

  dataOptions(policy.command('history').description('list policy versions, newest first; * marks the active one'))
    .option('--json', 'print JSON')
    .action(async (o: DataOptions & { json?: boolean }) => {
      const h = await withLocalDeps(o, (deps) => listPolicyVersions(deps));
      if (o.json) return out(safeJson(h));
      if (h.items.length === 0) return out('no policy versions yet (a gateway writes version 1 when it first starts)');
      out(
        table([
          ['', 'VERSION', 'HASH', 'APPLIED', 'BY', 'TRIGGER', 'NOTE'],
          ...h.items.map((v) => [
            v.active ? '*' : '',
            String(v.version),
            v.hash.slice(0, 12),
            v.applied_at,
            safeLine(v.applied_by.label),
            v.restored_from === null ? v.trigger : `${v.trigger} to ${v.restored_from}`,
            safeLine(v.note ?? ''),
          ]),
        ]),
      );
    });

  dataOptions(policy.command('rollback <version>').description("make an earlier version's document active again, as a new version"))
    .option('--note <text>', 'why, for the history')
    .option('--if-version <n>', 'refuse (exit 6) unless version n is still the active one')
    .action(async (version: string, o: ChangeOptions) => {
      const target = whole(version, 'VERSION') as number;
      const expectedVersion = whole(o.ifVersion, '--if-version');
      const change = await withLocalDeps(o, (deps, actor) =>
        rollbackPolicy(deps, actor, actor.id ?? 'cli', { version: target, note: o.note, expectedVersion }),
      );
      report(change, out);
    });

  dataOptions(policy.command('show [version]').description("print a version's document (default: the active one)")).action(
    async (version: string | undefined, o: DataOptions) => {
      const v = await withLocalDeps(o, (deps) => getPolicy(deps, whole(version, 'VERSION')));
      err(
        `# version ${v.version}${v.active ? ' (active)' : ''}, ${v.hash.slice(0, 12)}, ${v.trigger} by ${safeLine(v.applied_by.label)} at ${v.applied_at}`,
      );
      out(safeText(v.document).trimEnd());
    },
  );
}
