import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { loadOrCreateKeyring, rotateKeyring } from '../../crypto/keyring.js';
import { publishKeys } from '../../crypto/publish-keys.js';
import { type DataOptions, requireExistingDatabase, withLocalDeps } from '../context.js';
import { registerAgents } from './admin-agents.js';
import { registerGroups } from './admin-groups.js';
import { registerKeys } from './admin-keys.js';
import { dataOptions } from './admin-options.js';
import { registerSso } from './admin-sso.js';
import { registerUsers } from './admin-users.js';

export function registerAdmin(program: Command, out: (s: string) => void, err: (s: string) => void): void {
  registerUsers(program, out, err);
  const users = program.commands.find((c) => c.name() === 'users');
  if (users) registerSso(users, out);
  registerAgents(program, out, err);
  registerKeys(program, out, err);
  registerGroups(program, out, err);

  const signing = program.command('signing-keys').description('the Ed25519 keys that sign receipts and audit checkpoints');
  dataOptions(signing.command('rotate').description('make a new active key; old keys stay so what they signed still verifies')).action(
    async (o: DataOptions) => {
      const config = loadConfig({ file: o.config, overrides: { dataDir: o.data } });
      // Checked before the keyring changes, so a command pointed at the wrong place changes nothing.
      requireExistingDatabase(config);
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
