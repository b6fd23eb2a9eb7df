import type { Deps } from '../../../deps.js';
import { passkeysOf, passkeyView } from './passkey-rows.js';
import type { PasskeyView } from './schemas.js';

/** A person's passkeys (their own list, or an admin's view of someone's), oldest first. */
export async function listPasskeys(deps: Deps, userId: string): Promise<PasskeyView[]> {
  return (await passkeysOf(deps.db.read, userId)).map(passkeyView);
}
