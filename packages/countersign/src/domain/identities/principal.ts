import { assertNever } from '../../lib/errors.js';

export const ROLES = ['admin', 'reviewer', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** How a person signed in to a browser session (the sign-in issue builds each). */
export type SignInMethod = 'password' | 'passkey' | 'oidc' | 'setup_link';

/**
 * How the caller proved who it is on this request. Held requests are re-checked against it (revocation),
 * the review channel follows from it, and every vote's audit entry records it.
 */
export type Credential =
  | { kind: 'api_key'; keyPrefix: string }
  /** `strongAt`: when the session last authenticated strongly (passkey, or IdP auth_time), for step-up stages. */
  | { kind: 'session'; sessionId: string; method: SignInMethod; strongAt: number | null }
  /** A chat platform's user, linked to a person (the channels issue). */
  | { kind: 'chat'; platform: 'slack' | 'teams'; externalUserId: string }
  /** A single-use decision link from a notification email (notify/email): good for that one vote only. */
  | { kind: 'email_link'; linkId: string };

export interface UserPrincipal {
  type: 'user';
  id: string;
  email: string;
  name: string;
  role: Role;
  groups: string[];
  credential: Credential;
}

export interface AgentPrincipal {
  type: 'agent';
  id: string;
  name: string;
  ownerId: string;
  ownerEmail: string;
  labels: Record<string, string>;
  /** Agents authenticate with API keys only. */
  credential: Extract<Credential, { kind: 'api_key' }>;
}

export type Principal = UserPrincipal | AgentPrincipal;

/** Where a vote came from, as the audit and the review record say it: follows from the credential. */
export type ReviewChannel = 'api' | 'web' | 'slack' | 'teams' | 'email';

export function channelOf(p: UserPrincipal): ReviewChannel {
  const c = p.credential;
  switch (c.kind) {
    case 'api_key':
      return 'api';
    case 'session':
      return 'web';
    case 'chat':
      return c.platform;
    case 'email_link':
      return 'email';
    default:
      return assertNever(c, 'credential');
  }
}

/** How a voter authenticated, for the audit entry of the vote. */
export function describeCredential(c: Credential): Record<string, string | number | null> {
  switch (c.kind) {
    case 'api_key':
      return { kind: 'api_key', key_prefix: c.keyPrefix };
    case 'session':
      return { kind: 'session', method: c.method, strong_at: c.strongAt };
    case 'chat':
      return { kind: 'chat', platform: c.platform };
    case 'email_link':
      return { kind: 'email_link', link_id: c.linkId };
    default:
      return assertNever(c, 'credential');
  }
}

export function canReview(p: Principal): p is UserPrincipal {
  return p.type === 'user' && (p.role === 'admin' || p.role === 'reviewer');
}
