import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { loadOrCreateKeyring, rotateKeyring } from '../../crypto/keyring.js';
import { publishKeys } from '../../crypto/publish-keys.js';
import { addAgent } from '../../domain/identities/add-agent.js';
import { addUser } from '../../domain/identities/add-user.js';
import { revokeKey } from '../../domain/identities/revoke-key.js';
import { CsError } from '../../lib/errors.js';
import { type DataOptions, withLocalDeps } from '../context.js';

const collect = (value: string, prev: string[]) => [...prev, value];

function dataOptions(cmd: Command): Command {
  return cmd
    .option('--data <dir>', 'data directory (default ./.countersign, or COUNTERSIGN_DATA_DIR)')
    .option('--config <file>', 'config file (YAML)');
}

export function registerAdmin(program: Command, out: (s: string) => void, err: (s: string) => void): void {
  const users = program.command('users').description('manage people (works directly on the database)');
  dataOptions(users.command('add <email>').description('add a person and print their API key'))
    .option('--role <role>', 'admin | reviewer | viewer', 'reviewer')
    .option('--group <name>', 'group membership (repeatable)', collect, [])
    .option('--name <name>', 'display name')
    .action(async (email: string, o: DataOptions & { role: string; group: string[]; name?: string }) => {
      const u = await withLocalDeps(o, (deps, actor) =>
        addUser(deps, actor, { email, role: o.role as 'reviewer', groups: o.group, ...(o.name ? { name: o.name } : {}) }),
      );
      err(
        `added ${u.email} (${u.role}${u.groups.length ? `, groups: ${u.groups.join(', ')}` : ''}); key prefix ${u.keyPrefix}. The key is shown once:`,
      );
      out(u.apiKey);
    });

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

  const keys = program.command('keys').description('manage API keys');
  dataOptions(keys.command('revoke <prefix>').description('revoke a key by its prefix (cs_…)')).action(
    async (prefix: string, o: DataOptions) => {
      const r = await withLocalDeps(o, (deps, actor) => revokeKey(deps, actor, prefix));
      out(`revoked ${r.prefix} (${r.principalType} ${r.principalId})`);
    },
  );

  const signing = program.command('signing-keys').description('the Ed25519 keys that sign receipts and audit checkpoints');
  dataOptions(signing.command('rotate').description('make a new active key; old keys stay so what they signed still verifies')).action(
    async (o: DataOptions) => {
      const config = loadConfig({ file: o.config, overrides: { dataDir: o.data } });
      const r = await rotateKeyring(config.signing.keyringFile, new Date());
      // Publishing now puts the new public key in every node's JWKS before any gateway signs with it.
      await withLocalDeps(o, (deps) => publishKeys(deps));
      err(`rotated: ${r.previous} -> ${r.created.kid}; restart the gateways to sign with the new key`);
      out(r.created.kid);
    },
  );
  dataOptions(signing.command('ls').description('list the keys in the keyring (public parts)')).action(async (o: DataOptions) => {
    const config = loadConfig({ file: o.config, overrides: { dataDir: o.data } });
    const { keyring } = await loadOrCreateKeyring(config.signing.keyringFile, new Date());
    for (const k of keyring.keys) out(`${k.kid}  ${k.createdAt}${k.kid === keyring.active.kid ? '  active' : ''}`);
  });
}
