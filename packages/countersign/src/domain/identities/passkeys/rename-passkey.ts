import type { Deps } from '../../../deps.js';
import { CsError } from '../../../lib/errors.js';
import { parseInput } from '../../validate.js';
import type { UserPrincipal } from '../principal.js';
import { passkeyView } from './passkey-rows.js';
import { type PasskeyView, RenamePasskeyBody } from './schemas.js';

/** Renames one of the caller's passkeys (someone else's reads as not found), audited. */
export async function renamePasskey(deps: Deps, principal: UserPrincipal, passkeyId: string, body: unknown): Promise<PasskeyView> {
  const { name } = parseInput(RenamePasskeyBody, body);
  return deps.committer.run(async (tx) => {
    const row = await tx.db
      .selectFrom('passkeys')
      .selectAll()
      .where('id', '=', passkeyId)
      .where('user_id', '=', principal.id)
      .executeTakeFirst();
    if (!row) throw new CsError('not_found', `no passkey ${passkeyId} of yours; GET /v1/me/passkeys lists them`);
    const res = await tx.db.updateTable('passkeys').set({ name }).where('id', '=', row.id).where('name', '=', row.name).executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) throw new CsError('conflict', 'the passkey changed meanwhile; read it again');
    tx.audit({
      actor: { type: 'user', id: principal.id },
      event: 'passkey.renamed',
      data: { passkey_id: row.id, user_id: principal.id, from: row.name, to: name },
    });
    return passkeyView({ ...row, name });
  });
}
