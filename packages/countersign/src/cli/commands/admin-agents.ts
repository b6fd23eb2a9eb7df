import type { Command } from 'commander';
import { addAgent } from '../../domain/identities/add-agent.js';
import { disableAgent } from '../../domain/identities/disable-agent.js';
import { enableAgent } from '../../domain/identities/enable-agent.js';
import { listAgents } from '../../domain/identities/list-agents.js';
import { CsError } from '../../lib/errors.js';
import { type DataOptions, withLocalDeps } from '../context.js';
import { safeJson, table } from '../output.js';
import { collect, dataOptions } from './admin-options.js';

/** `countersign agents …`: agents, straight on the server's database. Every change is audited. */
export function registerAgents(program: Command, out: (s: string) => void, err: (s: string) => void): void {
  const agents = program.command('agents').description('manage agents (works directly on the database)');
  dataOptions(agents.command('add <name>').description('register an agent and print its API key'))
    .requiredOption('--owner <email>', 'the person responsible for the agent (they can never approve its actions)')
    .option('--label <key=value>', 'label (repeatable)', collect, [])
    .action(async (name: string, o: DataOptions & { owner: string; label: string[] }) => {
      const labels: Record<string, string> = {};
      for (const l of o.label) {
        const i = l.indexOf('=');
        if (i <= 0) throw new CsError('invalid_request', `--label must be key=value, got "${l}"`);
        labels[l.slice(0, i)] = l.slice(i + 1);
      }
      const a = await withLocalDeps(o, (deps, actor) => addAgent(deps, actor, { name, owner: o.owner, labels }));
      err(`added agent ${a.name} owned by ${o.owner}; key prefix ${a.keyPrefix}. The key is shown once:`);
      out(a.apiKey);
    });

  dataOptions(agents.command('ls').description('list agents, with their owner and usable keys'))
    .option('--json', 'print JSON')
    .action(async (o: DataOptions & { json?: boolean }) => {
      const items = await withLocalDeps(o, (deps) => listAgents(deps));
      if (o.json) return out(safeJson(items));
      if (items.length === 0) return out('no agents');
      out(
        table([
          ['NAME', 'OWNER', 'KEYS', 'STATUS', 'CREATED'],
          ...items.map((a) => [a.name, a.owner, String(a.active_keys), a.disabled ? 'disabled' : 'active', a.created_at]),
        ]),
      );
    });

  dataOptions(agents.command('disable <name>').description('stop an agent: its keys stop working and its pending actions are cancelled'))
    .option('--reason <text>', 'recorded on each cancelled action', 'the agent was disabled')
    .action(async (name: string, o: DataOptions & { reason: string }) => {
      const r = await withLocalDeps(o, (deps, actor) => disableAgent(deps, actor, name, o.reason));
      out(`disabled agent ${r.name}; cancelled ${r.cancelled.length} pending action(s)`);
      for (const id of r.cancelled) err(`  cancelled ${id}`);
    });

  dataOptions(agents.command('enable <name>').description('undo disable (cancelled actions stay cancelled)')).action(
    async (name: string, o: DataOptions) => {
      const r = await withLocalDeps(o, (deps, actor) => enableAgent(deps, actor, name));
      out(`enabled agent ${r.name}`);
    },
  );
}
