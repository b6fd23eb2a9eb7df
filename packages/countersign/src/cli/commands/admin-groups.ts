import type { Command } from 'commander';
import { createGroup } from '../../domain/identities/create-group.js';
import { listGroups } from '../../domain/identities/list-groups.js';
import { type DataOptions, withLocalDeps } from '../context.js';
import { safeJson, table } from '../output.js';
import { dataOptions } from './admin-options.js';

/** `countersign groups …`: named groups of people (workflows name them); membership is set per person with `users set-groups`. */
export function registerGroups(program: Command, out: (s: string) => void, _err: (s: string) => void): void {
  const groups = program.command('groups').description('manage groups of people (works directly on the database)');
  dataOptions(groups.command('add <name>').description('create an empty group, so a workflow can name it before anyone is in it'))
    .option('--description <text>', 'what the group is for')
    .action(async (name: string, o: DataOptions & { description?: string }) => {
      const g = await withLocalDeps(o, (deps, actor) =>
        createGroup(deps, actor, { name, ...(o.description ? { description: o.description } : {}) }),
      );
      out(`added group ${g.name}`);
    });
  dataOptions(groups.command('ls').description('list groups with their members'))
    .option('--json', 'print JSON')
    .action(async (o: DataOptions & { json?: boolean }) => {
      const items = await withLocalDeps(o, (deps) => listGroups(deps));
      if (o.json) return out(safeJson(items));
      if (items.length === 0) return out('no groups');
      out(table([['GROUP', 'MEMBERS', 'DESCRIPTION'], ...items.map((g) => [g.name, g.members.join(',') || '-', g.description ?? '-'])]));
    });
}
