import type { Config } from '../../../config/schema.js';
import type { Tx } from '../../../db/committer.js';
import { CsError } from '../../../lib/errors.js';
import { hashPassword } from './kdf.js';

/**
 * Checks a chosen password and hashes it (slow: call outside the transaction). Length is the only
 * rule, as NIST SP 800-63B recommends: composition rules make passwords weaker, not stronger.
 */
export async function hashNewPassword(config: Config, password: unknown): Promise<string> {
  const min = config.auth.local.minPasswordLength;
  if (typeof password !== 'string') throw new CsError('invalid_request', 'password must be a string');
  const length = [...password.normalize('NFKC')].length;
  if (length < min) throw new CsError('invalid_request', `the password must be at least ${min} characters`);
  if (length > 256) throw new CsError('invalid_request', 'the password must be at most 256 characters');
  return hashPassword(password, config.auth.local.scryptLogN);
}

export async function storePassword(tx: Tx, userId: string, hash: string): Promise<void> {
  await tx.db
    .insertInto('local_passwords')
    .values({ user_id: userId, hash, updated_at: tx.now })
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ hash, updated_at: tx.now }))
    .execute();
}
