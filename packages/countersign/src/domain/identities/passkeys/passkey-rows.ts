import type { WebAuthnCredential } from '@simplewebauthn/server';
import type { Kysely } from 'kysely';
import type { DB, PasskeysTable } from '../../../db/types.js';
import type { PasskeyView } from './schemas.js';

const iso = (ms: number) => new Date(ms).toISOString();

export function transportsOf(row: Pick<PasskeysTable, 'transports'>): string[] {
  const parsed: unknown = JSON.parse(row.transports);
  return Array.isArray(parsed) ? parsed.filter((t): t is string => typeof t === 'string') : [];
}

export function passkeyView(row: PasskeysTable): PasskeyView {
  return {
    id: row.id,
    name: row.name,
    transports: transportsOf(row),
    device_type: row.device_type === 'multiDevice' ? 'multiDevice' : 'singleDevice',
    backed_up: Number(row.backed_up) === 1,
    created_at: iso(row.created_at),
    last_used_at: row.last_used_at === null ? null : iso(row.last_used_at),
  };
}

/** What the WebAuthn library checks an assertion against. */
export function webAuthnCredential(row: PasskeysTable): WebAuthnCredential {
  return {
    id: row.credential_id,
    publicKey: new Uint8Array(Buffer.from(row.public_key, 'base64url')),
    counter: Number(row.sign_count),
    transports: transportsOf(row),
  };
}

/** A person's passkeys, oldest first. */
export async function passkeysOf(db: Kysely<DB>, userId: string): Promise<PasskeysTable[]> {
  return db.selectFrom('passkeys').selectAll().where('user_id', '=', userId).orderBy('created_at').orderBy('id').execute();
}
