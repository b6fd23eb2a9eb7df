import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { inspect } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../src/config/load.js';
import { type OidcConfig, resolveOidc, Secret } from '../src/config/oidc-schema.js';
import { ConfigFileSchema } from '../src/config/schema.js';
import { mapClaims } from '../src/domain/identities/oidc/map-claims.js';
import type { CsError } from '../src/lib/errors.js';
import { safeReturnTo } from '../src/lib/return-to.js';
import { REPO_ROOT } from './helpers.js';

const base = resolveOidc(
  {
    issuer: 'https://idp.example.com/realms/acme',
    client_id: 'countersign',
    groups_claim: 'groups',
    group_mapping: [
      { idp_group: 'approvers', groups: ['ops'], role: 'reviewer' },
      { idp_group: 'cs-admins', role: 'admin' },
      { idp_group: 'sre', groups: ['sre', 'ops'] },
    ],
  },
  'https://countersign.example.com',
  {},
  '/',
) as OidcConfig;

const claims = (extra: Record<string, unknown>) => ({ iss: 'https://idp.example.com/realms/acme', sub: 's1', ...extra });

test('a person in several mapped IdP groups gets the union of their groups and the strongest role', () => {
  const m = mapClaims(base, claims({ groups: ['sre', 'cs-admins', 'approvers', 'other'] }), false);
  assert.deepEqual(m.access, { role: 'admin', groups: ['ops', 'sre'] });
});

test('a person in no mapped group gets the default role and no groups', () => {
  assert.deepEqual(mapClaims(base, claims({ groups: ['other'] }), false).access, { role: 'viewer', groups: [] });
  assert.deepEqual(mapClaims(base, claims({}), false).access, { role: 'viewer', groups: [] });
});

test('without a groups claim configured, sign-in leaves role and groups alone', () => {
  assert.equal(mapClaims({ ...base, groupsClaim: undefined }, claims({ groups: ['approvers'] }), false).access, undefined);
});

test("Entra ID's group overage (groups replaced by _claim_names) is refused rather than read as no groups", () => {
  assert.throws(
    () => mapClaims(base, claims({ _claim_names: { groups: 'src1' }, _claim_sources: { src1: { endpoint: 'https://graph' } } }), false),
    (e: CsError) => e.code === 'forbidden' && /overage/.test(e.message),
  );
});

test('auth_time counts as strong authentication only with a strong amr or acr, or when max_age was asked', () => {
  assert.equal(mapClaims(base, claims({ auth_time: 1000 }), false).strongAt, null);
  assert.equal(mapClaims(base, claims({ auth_time: 1000, amr: ['pwd'] }), false).strongAt, null);
  assert.equal(mapClaims(base, claims({ auth_time: 1000, amr: ['pwd', 'mfa'] }), false).strongAt, 1_000_000);
  assert.equal(mapClaims({ ...base, strongAcr: ['gold'] }, claims({ auth_time: 1000, acr: 'gold' }), false).strongAt, 1_000_000);
  assert.equal(mapClaims(base, claims({ auth_time: 1000 }), true).strongAt, 1_000_000);
  assert.equal(mapClaims(base, claims({}), true).strongAt, null);
});

test('emails are compared lower-cased', () => {
  assert.equal(mapClaims(base, claims({ email: ' Dana@Example.COM ' }), false).email, 'dana@example.com');
});

test('return_to accepts paths on this gateway and refuses everything that could leave it', () => {
  assert.equal(safeReturnTo(undefined), '/');
  assert.equal(safeReturnTo('/actions?status=pending'), '/actions?status=pending');
  for (const bad of ['https://evil.example', '//evil.example', '/\\evil.example', 'actions', '/a\nb', '/a\\b']) {
    assert.throws(
      () => safeReturnTo(bad),
      (e: CsError) => e.code === 'invalid_request',
      bad,
    );
  }
});

test('the client secret never appears when the config is logged or serialized', () => {
  const s = new Secret('hunter2-secret');
  assert.equal(s.reveal(), 'hunter2-secret');
  assert.doesNotMatch(JSON.stringify({ s }), /hunter2/);
  assert.doesNotMatch(inspect({ s }), /hunter2/);
  assert.doesNotMatch(`${s}`, /hunter2/);
});

test('auth.oidc needs a public URL, the openid scope and the callback path, and reads the secret from the environment', () => {
  const file = { issuer: 'https://idp.example.com', client_id: 'c' };
  assert.throws(() => resolveOidc(file, undefined, {}, '/'), /public_url/);
  assert.throws(() => resolveOidc({ ...file, scopes: ['email'] }, 'https://cs.example.com', {}, '/'), /openid/);
  assert.throws(() => resolveOidc({ ...file, redirect_path: '/elsewhere' }, 'https://cs.example.com', {}, '/'), /redirect_path/);
  const r = resolveOidc(file, 'https://cs.example.com', { COUNTERSIGN_OIDC_CLIENT_SECRET: 'x' }, '/') as OidcConfig;
  assert.equal(r.clientSecret?.reveal(), 'x');
  assert.equal(r.redirectUri, 'https://cs.example.com/v1/auth/oidc/callback');
  assert.equal(r.jitProvisioning, false, 'just-in-time provisioning is off unless asked for');
  assert.equal(loadConfig({ env: {} }).oidc, undefined);
});

test('the configuration shown in docs/people.md is valid and means what the page says', () => {
  const doc = readFileSync(`${REPO_ROOT}/docs/people.md`, 'utf8');
  const yaml = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? '').find((y) => y.includes('oidc:')) ?? '';
  const file = ConfigFileSchema.parse(parseYaml(yaml));
  const oidc = resolveOidc(file.auth?.oidc, file.server?.public_url, { COUNTERSIGN_OIDC_CLIENT_SECRET: 's' }, '/') as OidcConfig;
  assert.equal(oidc.redirectUri, 'https://countersign.example.com/v1/auth/oidc/callback');
  assert.deepEqual(mapClaims(oidc, claims({ groups: ['sre', 'countersign-approvers'] }), false).access, {
    role: 'reviewer',
    groups: ['ops', 'sre'],
  });
});
