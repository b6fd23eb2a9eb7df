/**
 * The wire format of the people endpoints as the Account and Administration pages read it (docs/people.md).
 * Types only; packages/console/test/people-contract.test.ts holds them to the gateway's zod schemas.
 */

export type Role = 'admin' | 'reviewer' | 'viewer';

/** GET /v1/me/sessions: one of my browser sessions that still works. */
export interface SessionView {
  id: string;
  method: 'password' | 'passkey' | 'oidc' | 'setup_link';
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  strong_at: string | null;
  user_agent: string | null;
  ip: string | null;
  /** The session this page runs in. */
  current: boolean;
}

export interface PasskeyView {
  id: string;
  name: string;
  transports: string[];
  device_type: 'singleDevice' | 'multiDevice';
  backed_up: boolean;
  created_at: string;
  last_used_at: string | null;
}

export interface PasskeyRemoved {
  id: string;
  remaining: number;
}

export interface DelegationView {
  id: string;
  delegator: { id: string; email: string };
  delegate: { id: string; email: string };
  starts_at: string;
  ends_at: string;
  reason: string | null;
  state: 'upcoming' | 'active' | 'ended' | 'revoked';
  created_at: string;
  created_by: string;
  revoked_at: string | null;
  revoked_by: string | null;
}

/** GET /v1/me/delegations. */
export interface MyDelegations {
  given: DelegationView[];
  held: DelegationView[];
  acting_for: { delegation_id: string; id: string; email: string; until: string }[];
}

/** POST /v1/me/delegations. */
export interface CreateDelegationInput {
  delegate: string;
  starts_at?: string;
  ends_at: string;
  reason?: string;
}

export interface PersonView {
  id: string;
  email: string;
  name: string;
  role: Role;
  groups: string[];
  disabled: boolean;
  created_at: string;
  active_keys: number;
}

export interface CreatePersonInput {
  email: string;
  name?: string;
  role?: Role;
  groups?: string[];
}

export interface IssuedKey {
  /** Shown once: only its hash is stored. */
  api_key: string;
  key_prefix: string;
}

export interface LinkedIdentity {
  issuer: string;
  subject: string;
  email: string | null;
  linked_at: string;
  last_sign_in_at: string | null;
}

export interface GroupView {
  id: string;
  name: string;
  description: string | null;
  created_at: string;
  members: string[];
}

export interface AgentView {
  id: string;
  name: string;
  owner: string;
  labels: Record<string, string>;
  disabled: boolean;
  created_at: string;
  active_keys: number;
}

export interface CreateAgentInput {
  name: string;
  owner: string;
}

export interface KeyView {
  prefix: string;
  principal_type: 'user' | 'agent';
  principal: string;
  label: string | null;
  created_at: string;
  revoked_at: string | null;
  /** When it last authenticated a request (at most a minute stale); null: never. */
  last_used_at: string | null;
}

export interface ResetLink {
  url: string;
  expires_at: string;
  email: string;
}

export interface GrantView {
  id: string;
  agent_id: string;
  session_id: string | null;
  tool: string;
  match: { arguments: Record<string, unknown> } | { when: string };
  created_by: { id: string; email: string };
  source_action_id: string;
  created_at: string;
  expires_at: string;
  max_uses: number | null;
  uses: number;
  revoked_at: string | null;
  revoked_by: string | null;
  active: boolean;
}

/** A linked Slack or Teams account (GET /v1/me/chat-links). `display` is chat-supplied text. */
export interface ChatLinkView {
  platform: 'slack' | 'teams';
  workspace: string;
  user: string;
  display: string | null;
  linked_at: string;
}

/** What a chat link would link (POST /v1/chat-links/preview). `display` is chat-supplied text. */
export interface ChatLinkPreview {
  platform: 'slack' | 'teams';
  workspace: string;
  user: string;
  display: string;
  expires_at: string;
}

export interface ConfirmedChatLink extends ChatLinkView {
  email: string;
  already_linked: boolean;
}

export type ChatAccountKey = Pick<ChatLinkView, 'platform' | 'workspace' | 'user'>;
