import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { CsError } from '../lib/errors.js';

/** The public form every verifier gets (JWKS entry). */
export interface PublicJwk extends JWK {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  kid: string;
  alg: 'EdDSA';
  use: 'sig';
}

export interface SigningKey {
  kid: string;
  createdAt: string;
  privateKey: KeyObject;
  publicJwk: PublicJwk;
}

interface KeyringFile {
  version: 1;
  active: string;
  keys: { kid: string; created_at: string; private_jwk: JWK }[];
}

/**
 * The gateway's Ed25519 keys: one active key signs receipts and checkpoints;
 * older keys stay so what they signed still verifies. Kept in one JSON file,
 * mode 0600, in the data dir (or wherever `signing.keyring_file` points, e.g.
 * a mounted secret shared by every node).
 */
export class Keyring {
  constructor(
    readonly active: SigningKey,
    readonly keys: readonly SigningKey[],
  ) {}

  /** Raw Ed25519 signature with the active key (checkpoints). */
  sign(data: Buffer): Buffer {
    return sign(null, data, this.active.privateKey);
  }
}

async function toSigningKey(kid: string | undefined, createdAt: string, privateJwk: JWK): Promise<SigningKey> {
  const privateKey = createPrivateKey({ key: privateJwk as never, format: 'jwk' });
  const pub = createPublicKey(privateKey).export({ format: 'jwk' }) as JWK;
  if (pub.kty !== 'OKP' || pub.crv !== 'Ed25519' || typeof pub.x !== 'string') throw new Error('not an Ed25519 key');
  const thumbprint = await calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: pub.x });
  if (kid !== undefined && kid !== thumbprint) throw new Error(`key id ${kid} does not match its key (thumbprint ${thumbprint})`);
  return {
    kid: thumbprint,
    createdAt,
    privateKey,
    publicJwk: { kty: 'OKP', crv: 'Ed25519', x: pub.x, kid: thumbprint, alg: 'EdDSA', use: 'sig' },
  };
}

async function newKey(now: Date): Promise<{ key: SigningKey; entry: KeyringFile['keys'][number] }> {
  const { privateKey } = generateKeyPairSync('ed25519');
  const privateJwk = privateKey.export({ format: 'jwk' }) as JWK;
  const key = await toSigningKey(undefined, now.toISOString(), privateJwk);
  return { key, entry: { kid: key.kid, created_at: key.createdAt, private_jwk: privateJwk } };
}

function writeKeyringFile(path: string, data: KeyringFile, exclusive: boolean): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const text = `${JSON.stringify(data, null, 2)}\n`;
  if (exclusive) {
    // 'wx': two processes starting on a fresh data dir cannot both create a keyring.
    const fd = openSync(path, 'wx', 0o600);
    try {
      writeSync(fd, text);
    } finally {
      closeSync(fd);
    }
    return;
  }
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

async function parseKeyring(path: string): Promise<Keyring> {
  let data: KeyringFile;
  try {
    data = JSON.parse(readFileSync(path, 'utf8')) as KeyringFile;
    if (data.version !== 1 || !Array.isArray(data.keys)) throw new Error('unknown format');
  } catch (e) {
    throw new CsError('invalid_request', `signing keyring ${path} is unreadable: ${(e as Error).message}`);
  }
  const keys: SigningKey[] = [];
  for (const k of data.keys) {
    try {
      keys.push(await toSigningKey(k.kid, k.created_at, k.private_jwk));
    } catch (e) {
      throw new CsError('invalid_request', `signing keyring ${path}: key ${k.kid}: ${(e as Error).message}`);
    }
  }
  const active = keys.find((k) => k.kid === data.active);
  if (!active) throw new CsError('invalid_request', `signing keyring ${path}: the active key ${data.active} is not in it`);
  return new Keyring(active, keys);
}

/** Loads the keyring, creating it (one new key) on first start. `created` says whether a key was made. */
export async function loadOrCreateKeyring(path: string, now: Date): Promise<{ keyring: Keyring; created: SigningKey | null }> {
  if (!existsSync(path)) {
    const { key, entry } = await newKey(now);
    try {
      writeKeyringFile(path, { version: 1, active: key.kid, keys: [entry] }, true);
      return { keyring: new Keyring(key, [key]), created: key };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      // Another process created it first: use theirs.
    }
  }
  const mode = statSync(path).mode & 0o077;
  if (mode !== 0)
    throw new CsError(
      'invalid_request',
      `signing keyring ${path} is readable by others (mode ${(statSync(path).mode & 0o777).toString(8)}); chmod 600 it`,
    );
  return { keyring: await parseKeyring(path), created: null };
}

/** Adds a new active key; the old ones stay for verification. */
export async function rotateKeyring(path: string, now: Date): Promise<{ keyring: Keyring; created: SigningKey; previous: string }> {
  const current = JSON.parse(readFileSync(path, 'utf8')) as KeyringFile;
  const { key, entry } = await newKey(now);
  writeKeyringFile(path, { version: 1, active: key.kid, keys: [...current.keys, entry] }, false);
  return { keyring: await parseKeyring(path), created: key, previous: current.active };
}
