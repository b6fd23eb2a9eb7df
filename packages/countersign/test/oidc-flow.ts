import assert from 'node:assert/strict';
import { type OidcConfigFile, resolveOidc } from '../src/config/oidc-schema.js';
import type { Config } from '../src/config/schema.js';
import { groupsOf as storedGroupsOf } from '../src/domain/identities/memberships.js';
import { call, type World, withPolicy } from './helpers.js';
import { CLIENT_SECRET, PUBLIC_URL, type TestIdp } from './oidc-idp.js';

/** A gateway configured for sign-in with the test IdP, and a browser's trips through it (tests of oidc-*.test.ts). */

/** Deploys need one approval from group ops; the IdP group cs-approvers maps onto it. */
export const POLICY = `
policy:
  rules:
    - name: prod-deploys
      when: tool == "deploy"
      effect: review
      workflow: ops-only
workflows:
  ops-only:
    stages:
      - approvers: { groups: [ops] }
`;

/** `publicUrl`: where the gateway is reached (a browser test's real port); the IdP must be started with its callback. */
export function withSso(idp: TestIdp, overrides: Partial<OidcConfigFile> = {}, publicUrl = PUBLIC_URL): (c: Config) => Config {
  return (c) => {
    const withPolicyConfig = withPolicy(POLICY)(c);
    const file: OidcConfigFile = {
      issuer: idp.issuer,
      client_id: 'countersign',
      scopes: ['openid', 'email', 'profile', 'groups'],
      groups_claim: 'groups',
      group_mapping: [{ idp_group: 'cs-approvers', groups: ['ops'], role: 'reviewer' }],
      ...overrides,
    };
    return {
      ...withPolicyConfig,
      server: { ...c.server, publicUrl },
      oidc: resolveOidc(file, publicUrl, { COUNTERSIGN_OIDC_CLIENT_SECRET: CLIENT_SECRET }, '/'),
    };
  };
}

export function cookies(headers: Record<string, unknown>): Map<string, string> {
  const raw = headers['set-cookie'];
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [String(raw)];
  const out = new Map<string, string>();
  for (const c of list as string[]) {
    const [pair] = c.split(';');
    const eq = (pair ?? '').indexOf('=');
    out.set((pair as string).slice(0, eq), (pair as string).slice(eq + 1));
  }
  return out;
}

/** The browser's trip: the gateway's login route, the IdP's pages, back to the callback (not yet called). */
export async function startAndAuthorize(w: World, idp: TestIdp, sub: string, returnTo = '/inbox') {
  const start = await call(w, 'GET', `/v1/auth/oidc/login?return_to=${encodeURIComponent(returnTo)}`);
  assert.equal(start.status, 302, JSON.stringify(start.body));
  const state = cookies(start.headers).get('cs_oidc_state') as string;
  assert.ok(state, 'the login route binds the sign-in to this browser');
  const back = await idp.authorize(String(start.headers.location), sub);
  return { callback: `${back.pathname}${back.search}`, state };
}

export async function callback(w: World, path: string, state: string | undefined) {
  return call(w, 'GET', path, undefined, undefined, state === undefined ? {} : { cookie: `cs_oidc_state=${state}` });
}

export async function signIn(w: World, idp: TestIdp, sub: string, returnTo = '/inbox') {
  const { callback: path, state } = await startAndAuthorize(w, idp, sub, returnTo);
  return callback(w, path, state);
}

/** A person's groups as the gateway stores them (the one place these tests read how groups are stored). */
export async function groupsOf(w: World, email: string): Promise<string[]> {
  const u = await userByEmail(w, email);
  return u ? (await storedGroupsOf(w.gw.deps.db.read, u.id)).sort() : [];
}

export const userByEmail = (w: World, email: string) =>
  w.gw.deps.db.read.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
