import type { Command } from 'commander';
import { addUser } from '../../domain/identities/add-user.js';
import { disableUser } from '../../domain/identities/disable-user.js';
import { enableUser } from '../../domain/identities/enable-user.js';
import { issueResetLink } from '../../domain/identities/links/issue-reset-link.js';
import { publicOriginOf } from '../../domain/identities/links/origin.js';
import { listUsers } from '../../domain/identities/list-users.js';
import { setUserGroups } from '../../domain/identities/set-user-groups.js';
import { setUserRole } from '../../domain/identities/set-user-role.js';
import { type DataOptions, withLocalDeps } from '../context.js';
import { safeJson, table } from '../output.js';
import { collect, dataOptions } from './admin-options.js';

/** `countersign users …`: people, straight on the server's database. Every change is audited. */
export function registerUsers(program: Command, out: (s: string) => void, err: (s: string) => void): void {
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

  dataOptions(users.command('ls').description('list people, with their role, groups and usable keys'))
    .option('--json', 'print JSON')
    .action(async (o: DataOptions & { json?: boolean }) => {
      const items = await withLocalDeps(o, (deps) => listUsers(deps));
      if (o.json) return out(safeJson(items));
      if (items.length === 0) return out('no people');
      out(
        table([
          ['EMAIL', 'ROLE', 'GROUPS', 'KEYS', 'STATUS', 'CREATED'],
          ...items.map((u) => [
            u.email,
            u.role,
            u.groups.join(',') || '-',
            String(u.active_keys),
            u.disabled ? 'disabled' : 'active',
            u.created_at,
          ]),
        ]),
      );
    });

  dataOptions(
    users
      .command('disable <email>')
      .description('offboard a person: their keys stop working, their open streams end, their grants stop approving'),
  ).action(async (email: string, o: DataOptions) => {
    const r = await withLocalDeps(o, (deps, actor) => disableUser(deps, actor, email));
    out(`disabled ${r.email}${r.suspendedGrants ? `; ${r.suspendedGrants} live grant(s) they created are suspended` : ''}`);
    if (r.ownedAgents.length > 0) {
      err(`note: they own agent(s) ${r.ownedAgents.join(', ')}, which keep working; "countersign agents disable NAME" stops one`);
    }
  });

  dataOptions(users.command('enable <email>').description('undo disable: keys not revoked and grants not expired work again')).action(
    async (email: string, o: DataOptions) => {
      const r = await withLocalDeps(o, (deps, actor) => enableUser(deps, actor, email));
      out(`enabled ${r.email}`);
    },
  );

  dataOptions(users.command('set-role <email> <role>').description("change a person's role: admin | reviewer | viewer")).action(
    async (email: string, role: string, o: DataOptions) => {
      const r = await withLocalDeps(o, (deps, actor) => setUserRole(deps, actor, { email, role: role as 'reviewer' }));
      out(`${r.email}: ${r.previous} -> ${r.role}`);
    },
  );

  dataOptions(users.command('set-groups <email> [groups...]').description("replace a person's groups (none given: no groups)")).action(
    async (email: string, groups: string[], o: DataOptions) => {
      const r = await withLocalDeps(o, (deps, actor) => setUserGroups(deps, actor, { email, groups }));
      out(`${r.email}: groups ${r.previous.join(',') || '(none)'} -> ${r.groups.join(',') || '(none)'}`);
    },
  );

  dataOptions(
    users
      .command('reset-link <email>')
      .description('print a one-time link that lets the person choose a new password (works once, for auth.local.reset_link_ttl)'),
  ).action(async (email: string, o: DataOptions) => {
    const r = await withLocalDeps(o, (deps, actor) => issueResetLink(deps, actor, email, publicOriginOf(deps.config)));
    err(`password reset link for ${r.email}, valid until ${new Date(r.expiresAt).toISOString()}; hand it to them over a trusted channel:`);
    out(r.url);
  });
}
