/*
 * Webhook secrets at rest: AES-256-GCM under a key file made once (mode 0600) and shared by whoever
 * opens the same directory, bound to their endpoint, and refused when tampered with.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { decryptSecret, encryptSecret, loadOrCreateKey, newWebhookSecret } from '../src/notify/webhooks/secret-box.js';

describe('webhook secrets at rest', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cs-whkey-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'keys', 'webhook-secrets.key');

  test('the key file is created once, readable by its owner only, and the same key is read again', () => {
    const first = loadOrCreateKey(path);
    assert.equal(first.length, 32);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(loadOrCreateKey(path), first);
  });

  test('a secret decrypts for its own endpoint only, and a tampered ciphertext is refused', () => {
    const key = loadOrCreateKey(path);
    const secret = newWebhookSecret();
    const sealed = encryptSecret(key, 'endpoint-a', secret);
    assert.ok(!sealed.includes(secret.slice(6)));
    assert.notEqual(sealed, encryptSecret(key, 'endpoint-a', secret), 'a fresh nonce each time');
    assert.equal(decryptSecret(key, 'endpoint-a', sealed), secret);
    assert.throws(() => decryptSecret(key, 'endpoint-b', sealed), /does not decrypt/);
    const [v, iv, tag, body] = sealed.split('.');
    const flipped = Buffer.from(body ?? '', 'base64');
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    assert.throws(() => decryptSecret(key, 'endpoint-a', [v, iv, tag, flipped.toString('base64')].join('.')), /does not decrypt/);
    assert.throws(() => decryptSecret(Buffer.alloc(32, 7), 'endpoint-a', sealed), /does not decrypt/);
    assert.throws(() => decryptSecret(key, 'endpoint-a', 'plain-text'), /not in a known form/);
  });

  test('a generated secret is a 32-byte Standard Webhooks secret', () => {
    const secret = newWebhookSecret();
    assert.match(secret, /^whsec_/);
    assert.equal(Buffer.from(secret.slice(6), 'base64').length, 32);
    const wh = new Webhook(secret);
    const signature = wh.sign('msg_1', new Date(), '{}');
    assert.match(signature, /^v1,/);
  });

  test('a key file of the wrong size is refused rather than used', () => {
    const bad = join(dir, 'short.key');
    writeFileSync(bad, Buffer.alloc(16));
    assert.throws(() => loadOrCreateKey(bad), /exactly 32 bytes/);
  });
});
