import type { OidcConfig } from '../../../config/oidc-schema.js';
import { CsError } from '../../../lib/errors.js';
import { ROLES, type Role } from '../principal.js';

/** What one sign-in's ID token says about the person, in Countersign's terms. */
export interface MappedClaims {
  issuer: string;
  subject: string;
  email: string | undefined;
  emailVerified: boolean | undefined;
  name: string | undefined;
  /** Undefined when groups are not managed by the IdP (no `groups_claim`): the person keeps their own. */
  access: { role: Role; groups: string[] } | undefined;
  /** When the person last authenticated strongly, for step-up stages (ms), or null. */
  strongAt: number | null;
}

// Highest first: a person in several mapped IdP groups gets the strongest role any of them gives.
const RANK: Record<Role, number> = { admin: 3, reviewer: 2, viewer: 1 };

/**
 * Maps validated ID-token claims to a person's role, groups and step-up time. Pure: the same claims
 * always give the same answer, so what a person may do is exactly what the IdP said at this sign-in.
 */
export function mapClaims(config: OidcConfig, claims: Record<string, unknown>, maxAgeRequested: boolean): MappedClaims {
  const email = typeof claims.email === 'string' ? claims.email.trim().toLowerCase() : undefined;
  return {
    issuer: String(claims.iss),
    subject: String(claims.sub),
    email: email && email.length <= 320 ? email : undefined,
    emailVerified: typeof claims.email_verified === 'boolean' ? claims.email_verified : undefined,
    name: typeof claims.name === 'string' && claims.name.length > 0 ? claims.name.slice(0, 200) : undefined,
    access: config.groupsClaim === undefined ? undefined : access(config, idpGroups(config.groupsClaim, claims)),
    strongAt: strongAt(config, claims, maxAgeRequested),
  };
}

function idpGroups(claim: string, claims: Record<string, unknown>): string[] {
  const value = claims[claim];
  if (value === undefined) {
    // Entra ID replaces `groups` with `_claim_names` when a person is in more groups than fit in a token (200).
    // Signing them in with no groups would silently demote them; refusing says what to fix.
    const names = claims._claim_names;
    if (names && typeof names === 'object' && claim in names) {
      throw new CsError(
        'forbidden',
        `the identity provider left out the "${claim}" claim because the person is in too many groups (group overage); ` +
          'emit only the groups assigned to the application (Entra ID: "Groups assigned to the application")',
      );
    }
    return [];
  }
  if (!Array.isArray(value) || value.some((g) => typeof g !== 'string')) {
    throw new CsError('forbidden', `the ID token's "${claim}" claim is not a list of group names`);
  }
  return value as string[];
}

function access(config: OidcConfig, groups: string[]): { role: Role; groups: string[] } {
  const held = new Set(groups);
  let role: Role = config.defaultRole;
  let mappedRole: Role | undefined;
  const mapped = new Set<string>();
  for (const m of config.groupMapping) {
    if (!held.has(m.idpGroup)) continue;
    for (const g of m.groups) mapped.add(g);
    if (m.role && (mappedRole === undefined || RANK[m.role] > RANK[mappedRole])) mappedRole = m.role;
  }
  if (mappedRole) role = mappedRole;
  return { role: (ROLES as readonly string[]).includes(role) ? role : 'viewer', groups: [...mapped].sort() };
}

/**
 * The IdP's `auth_time` counts as a strong authentication when the IdP says how it was strong (`amr`, `acr`
 * listed in the config) or when we asked for a fresh one (`max_age`, which openid-client checked against
 * `auth_time`). Otherwise a session from this sign-in cannot satisfy a step-up stage.
 */
function strongAt(config: OidcConfig, claims: Record<string, unknown>, maxAgeRequested: boolean): number | null {
  const authTime = claims.auth_time;
  if (typeof authTime !== 'number' || !Number.isFinite(authTime)) return null;
  const amr = Array.isArray(claims.amr) ? claims.amr.filter((a): a is string => typeof a === 'string') : [];
  const strong =
    maxAgeRequested ||
    amr.some((a) => config.strongAmr.includes(a)) ||
    (typeof claims.acr === 'string' && config.strongAcr.includes(claims.acr));
  return strong ? authTime * 1000 : null;
}
