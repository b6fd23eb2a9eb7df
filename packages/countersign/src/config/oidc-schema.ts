import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { ROLES, type Role } from '../domain/identities/principal.js';
import { CsError } from '../lib/errors.js';
import { Duration as duration } from '../policy/schema.js';

const GroupName = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/i, 'group names are letters, digits, . _ -');

/** `auth.oidc` in the config file: single sign-on with an OpenID Connect provider (Keycloak, Entra ID, Okta…). */
export const OidcConfigSchema = z.strictObject({
  /** The IdP's issuer URL; its /.well-known/openid-configuration is read on the first sign-in. */
  issuer: z.url(),
  client_id: z.string().min(1).max(512),
  /**
   * The client secret lives in a file (mode 0600) or in COUNTERSIGN_OIDC_CLIENT_SECRET, never in this file,
   * so the config can be committed. With neither, the client is public (PKCE alone, no client authentication).
   */
  client_secret_file: z.string().min(1).optional(),
  /** Path on the public URL the IdP redirects back to; register `<public_url><redirect_path>` at the IdP. */
  redirect_path: z
    .string()
    .regex(/^\/[A-Za-z0-9/._~-]*$/)
    .optional(),
  scopes: z.array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/)).optional(),
  /** The ID token claim that lists the person's IdP groups (Keycloak: `groups`; Entra ID: `groups`, object ids). */
  groups_claim: z.string().min(1).max(200).optional(),
  /** IdP group → Countersign groups and role, applied at every sign-in. */
  group_mapping: z
    .array(
      z.strictObject({
        idp_group: z.string().min(1).max(512),
        groups: z.array(GroupName).max(64).optional(),
        role: z.enum(ROLES).optional(),
      }),
    )
    .max(1000)
    .optional(),
  /** The role of a person no mapping gives one. */
  default_role: z.enum(ROLES).optional(),
  /** Create a person on their first sign-in (else an admin links them first). Off by default. */
  jit_provisioning: z.boolean().optional(),
  /** `amr` values that count as strong authentication (the IdP's auth_time then becomes the step-up time). */
  strong_amr: z.array(z.string().min(1).max(100)).max(50).optional(),
  /** `acr` values that count as strong authentication. */
  strong_acr: z.array(z.string().min(1).max(500)).max(50).optional(),
  /** How long a person has to finish signing in at the IdP. */
  login_timeout: duration.optional(),
});

export type OidcConfigFile = z.infer<typeof OidcConfigSchema>;

export interface OidcMapping {
  idpGroup: string;
  groups: string[];
  role: Role | undefined;
}

/** The client secret, kept out of logs and JSON by accident. */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toJSON(): string {
    return '[redacted]';
  }
  toString(): string {
    return '[redacted]';
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return 'Secret([redacted])';
  }
}

export interface OidcConfig {
  issuer: string;
  clientId: string;
  clientSecret: Secret | undefined;
  redirectUri: string;
  scopes: string[];
  groupsClaim: string | undefined;
  groupMapping: OidcMapping[];
  defaultRole: Role;
  jitProvisioning: boolean;
  strongAmr: string[];
  strongAcr: string[];
  loginTimeoutMs: number;
}

export const OIDC_CALLBACK_PATH = '/v1/auth/oidc/callback';

/** Resolves `auth.oidc` (undefined when SSO is not configured). The secret comes from env or a file. */
export function resolveOidc(
  file: OidcConfigFile | undefined,
  publicUrl: string | undefined,
  env: NodeJS.ProcessEnv,
  cwd: string,
): OidcConfig | undefined {
  if (!file) return undefined;
  if (!publicUrl) {
    throw new CsError('invalid_request', 'auth.oidc needs server.public_url (the IdP redirects the browser back to it)');
  }
  const scopes = file.scopes ?? ['openid', 'email', 'profile'];
  if (!scopes.includes('openid')) throw new CsError('invalid_request', 'auth.oidc.scopes must include "openid"');
  const redirectPath = file.redirect_path ?? OIDC_CALLBACK_PATH;
  if (redirectPath !== OIDC_CALLBACK_PATH) {
    // The route is registered at one path; a different one would send the IdP's answer nowhere.
    throw new CsError('invalid_request', `auth.oidc.redirect_path must be ${OIDC_CALLBACK_PATH} (a reverse proxy may rewrite it)`);
  }
  return {
    issuer: file.issuer,
    clientId: file.client_id,
    clientSecret: readSecret(file.client_secret_file, env, cwd),
    redirectUri: new URL(redirectPath, publicUrl).href,
    scopes,
    groupsClaim: file.groups_claim,
    groupMapping: (file.group_mapping ?? []).map((m) => ({ idpGroup: m.idp_group, groups: m.groups ?? [], role: m.role })),
    defaultRole: file.default_role ?? 'viewer',
    jitProvisioning: file.jit_provisioning ?? false,
    strongAmr: file.strong_amr ?? ['mfa', 'hwk', 'fido', 'otp'],
    strongAcr: file.strong_acr ?? [],
    loginTimeoutMs: file.login_timeout ?? 600_000,
  };
}

function readSecret(path: string | undefined, env: NodeJS.ProcessEnv, cwd: string): Secret | undefined {
  const fromEnv = env.COUNTERSIGN_OIDC_CLIENT_SECRET;
  if (fromEnv) return new Secret(fromEnv);
  if (!path) return undefined;
  try {
    const text = readFileSync(resolve(cwd, path), 'utf8').trim();
    if (text === '') throw new Error('the file is empty');
    return new Secret(text);
  } catch (e) {
    throw new CsError('invalid_request', `cannot read auth.oidc.client_secret_file ${path}: ${(e as Error).message}`);
  }
}
