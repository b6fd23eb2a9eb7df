import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Config } from '../../config/schema.js';
import { CsError } from '../../lib/errors.js';

/**
 * Webhook secrets must be used again to sign every delivery, so unlike API keys they cannot be hashed.
 * They are stored AES-256-GCM encrypted under a 32-byte key kept in a file beside the receipt signing
 * keyring (`<dir of signing.keyring_file>/webhook-secrets.key`, mode 0600): where an operator already
 * keeps the gateway's keys, and shared by every node that shares the keyring. A database dump alone
 * therefore reveals no secret. The key file is created on first use (exclusively, so two nodes starting
 * together agree on one key) and read on each use: 32 bytes, so there is no cache to keep in step.
 */
export function secretKeyFile(config: Config): string {
  return join(dirname(config.signing.keyringFile), 'webhook-secrets.key');
}

const VERSION = 'v1';
/** Binds a ciphertext to its endpoint, so a secret copied to another endpoint's row does not decrypt. */
const aad = (endpointId: string) => Buffer.from(`countersign webhook secret ${endpointId}`);

export function loadOrCreateKey(path: string): Buffer {
  try {
    return checkKey(readFileSync(path), path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  mkdirSync(dirname(path), { recursive: true });
  try {
    const fd = openSync(path, 'wx', 0o600);
    try {
      writeSync(fd, randomBytes(32));
    } finally {
      closeSync(fd);
    }
    chmodSync(path, 0o600);
  } catch (e) {
    // Another process created it first: use theirs.
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  return checkKey(readFileSync(path), path);
}

function checkKey(key: Buffer, path: string): Buffer {
  if (key.length !== 32) throw new CsError('internal', `${path} must hold exactly 32 bytes (the webhook secret key)`);
  return key;
}

export function encryptSecret(key: Buffer, endpointId: string, secret: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad(endpointId));
  const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return [VERSION, iv.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join('.');
}

export function decryptSecret(key: Buffer, endpointId: string, sealed: string): string {
  const [version, iv, tag, body] = sealed.split('.');
  if (version !== VERSION || iv === undefined || tag === undefined || body === undefined) {
    throw new CsError('internal', `webhook ${endpointId}: the stored secret is not in a known form`);
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
    decipher.setAAD(aad(endpointId));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    throw new CsError('internal', `webhook ${endpointId}: the secret does not decrypt (was webhook-secrets.key replaced?)`);
  }
}

/** A new Standard Webhooks secret: `whsec_` and 32 random bytes in base64. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}
