export const ROLES = ['admin', 'reviewer', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export interface UserPrincipal {
  type: 'user';
  id: string;
  email: string;
  name: string;
  role: Role;
  groups: string[];
  keyPrefix: string;
}

export interface AgentPrincipal {
  type: 'agent';
  id: string;
  name: string;
  ownerId: string;
  ownerEmail: string;
  labels: Record<string, string>;
  keyPrefix: string;
}

export type Principal = UserPrincipal | AgentPrincipal;

export function canReview(p: Principal): p is UserPrincipal {
  return p.type === 'user' && (p.role === 'admin' || p.role === 'reviewer');
}
