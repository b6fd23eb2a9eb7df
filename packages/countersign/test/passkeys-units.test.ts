import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';
import { relyingPartyOf, signedChallenge } from '../src/domain/identities/passkeys/relying-party.js';
import { launchChromium } from './browser.js';
import { REPO_ROOT } from './helpers.js';

/** A config as the gateway loads it: a YAML file and the environment. */
function load(yaml: string, env: Record<string, string> = {}): Config {
  const dir = mkdtempSync(join(tmpdir(), 'cs-passkeys-'));
  const file = join(dir, 'countersign.yaml');
  writeFileSync(file, yaml);
  return loadConfig({ file, env, overrides: { dataDir: dir } });
}

test('the relying party defaults to the public URL: its host is the rp id, its origin the one origin; ceremonies last 5 min', () => {
  const config = load('server:\n  public_url: https://approvals.example.com/console\n');
  assert.deepEqual(relyingPartyOf(config), {
    rpId: 'approvals.example.com',
    name: 'Countersign',
    origins: ['https://approvals.example.com'],
  });
  assert.deepEqual(config.auth.passkeys, { rpId: undefined, origins: undefined, challengeTtlMs: 300_000, recentSignInMs: 600_000 });
});

test('auth.passkeys sets the rp id and origins (a proxy serving the console at another name) and the time limits', () => {
  const config = load(
    'server:\n  public_url: http://10.0.0.5:8700\nauth:\n  passkeys:\n    rp_id: example.com\n    origins: [https://console.example.com/]\n    challenge_ttl: 2m\n    recent_sign_in: 15m\n',
  );
  assert.deepEqual(relyingPartyOf(config), { rpId: 'example.com', name: 'Countersign', origins: ['https://console.example.com'] });
  assert.equal(config.auth.passkeys.challengeTtlMs, 120_000);
  assert.equal(config.auth.passkeys.recentSignInMs, 900_000);
});

test('an rp id with a scheme or a port is refused when the config is read', () => {
  assert.throws(() => load('auth:\n  passkeys:\n    rp_id: https://example.com\n'), /rp_id/);
  assert.throws(() => load('auth:\n  passkeys:\n    rp_id: "example.com:443"\n'), /rp_id/);
});

test('an IP address is no rp id: passkeys are refused with how to fix it', () => {
  assert.throws(
    () => relyingPartyOf(load('server:\n  public_url: http://127.0.0.1:8700\n')),
    (e: Error & { code?: string }) => e.code === 'invalid_request' && /server\.public_url/.test(e.message),
  );
});

test('the signed challenge is read from clientDataJSON, and anything else reads as none', () => {
  const cd = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  assert.equal(signedChallenge(cd({ type: 'webauthn.get', challenge: 'abc_-1' })), 'abc_-1');
  assert.equal(signedChallenge(cd({ challenge: 'not base64url!' })), null);
  assert.equal(signedChallenge(cd({ challenge: 7 })), null);
  assert.equal(signedChallenge('!!!'), null);
});

test('browser tests fail, never skip, when Chromium is missing, saying how to install it', async () => {
  await assert.rejects(
    launchChromium('/nonexistent/chromium'),
    /not installed at \/nonexistent\/chromium: install it \(apt-get install chromium\)/,
  );
});

test('the passkey configuration shown in docs/people.md is valid and means what the page says', () => {
  const doc = readFileSync(`${REPO_ROOT}/docs/people.md`, 'utf8');
  const yaml = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? '').find((y) => y.includes('passkeys:')) ?? '';
  const config = load(yaml);
  assert.deepEqual(relyingPartyOf(config), {
    rpId: 'approvals.example.com',
    name: 'Countersign',
    origins: ['https://approvals.example.com'],
  });
  assert.deepEqual([config.auth.passkeys.challengeTtlMs, config.auth.passkeys.recentSignInMs], [300_000, 600_000]);
});
