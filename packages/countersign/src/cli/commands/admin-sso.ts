import type { Command } from 'commander';
import { linkIdentity, unlinkIdentity } from '../../domain/identities/oidc/link-identity.js';
import { type DataOptions, withLocalDeps } from '../context.js';
import { dataOptions } from './admin-options.js';

/** `countersign users link-sso / unlink-sso`: who may sign in with which IdP account. Audited. */
export function registerSso(users: Command, out: (s: string) => void): void {
  dataOptions(
    users
      .command('link-sso <email> <subject>')
      .description('link a person to their identity-provider account (its `sub`), so they can sign in with SSO; never done by email'),
  )
    .option('--issuer <url>', 'the IdP issuer (default: auth.oidc.issuer)')
    .action(async (email: string, subject: string, o: DataOptions & { issuer?: string }) => {
      const r = await withLocalDeps(o, (deps, actor) =>
        linkIdentity(deps, actor, { email, subject, ...(o.issuer ? { issuer: o.issuer } : {}) }),
      );
      out(`linked ${r.email} to ${r.subject} at ${r.issuer}`);
    });
  dataOptions(users.command('unlink-sso <subject>').description('unlink an identity-provider account: it can no longer sign in here'))
    .option('--issuer <url>', 'the IdP issuer (default: auth.oidc.issuer)')
    .action(async (subject: string, o: DataOptions & { issuer?: string }) => {
      const r = await withLocalDeps(o, (deps, actor) =>
        unlinkIdentity(deps, actor, { subject, ...(o.issuer ? { issuer: o.issuer } : {}) }),
      );
      out(`unlinked ${r.subject} at ${r.issuer}`);
    });
}
