import type { Deps } from '../../../deps.js';

/**
 * At start, when this gateway has local accounts, computes the dummy hash an unknown email is checked
 * against (see PasswordChecker.warm). A gateway without local passwords (SSO only, or a test database)
 * skips it: at OWASP's cost it holds 128 MiB and a thread for about a second.
 */
export async function warmPasswords(deps: Pick<Deps, 'db' | 'passwords'>): Promise<boolean> {
  const any = await deps.db.read.selectFrom('local_passwords').select('user_id').limit(1).executeTakeFirst();
  if (!any) return false;
  await deps.passwords.warm();
  return true;
}
