import { request } from './client.js';
import type {
  AgentView,
  ChatAccountKey,
  ChatLinkPreview,
  ChatLinkView,
  ConfirmedChatLink,
  CreateAgentInput,
  CreateDelegationInput,
  CreatePersonInput,
  DelegationView,
  GrantView,
  GroupView,
  IssuedKey,
  KeyView,
  LinkedIdentity,
  MyDelegations,
  PasskeyRemoved,
  PasskeyView,
  PersonView,
  ResetLink,
  Role,
  SessionView,
} from './people-types.js';

const seg = encodeURIComponent;

/** The Account page's calls: my sessions, passkeys and delegations (docs/people.md). */
export const account = {
  sessions: () => request<{ items: SessionView[] }>('GET', '/v1/me/sessions'),
  revokeSession: (id: string) => request<{ id: string }>('POST', `/v1/me/sessions/${seg(id)}/revoke`),
  passkeys: () => request<{ items: PasskeyView[] }>('GET', '/v1/me/passkeys'),
  passkeyOptions: () => request<Record<string, unknown>>('POST', '/v1/me/passkeys/options'),
  registerPasskey: (name: string, credential: unknown) => request<PasskeyView>('POST', '/v1/me/passkeys', { name, credential }),
  renamePasskey: (id: string, name: string) => request<PasskeyView>('POST', `/v1/me/passkeys/${seg(id)}/rename`, { name }),
  removePasskey: (id: string) => request<PasskeyRemoved>('POST', `/v1/me/passkeys/${seg(id)}/remove`),
  reauthOptions: () => request<Record<string, unknown>>('POST', '/v1/me/reauthenticate/passkey/options'),
  reauthVerify: (credential: unknown) =>
    request<{ session_id: string; strong_at: string }>('POST', '/v1/me/reauthenticate/passkey/verify', { credential }),
  delegations: () => request<MyDelegations>('GET', '/v1/me/delegations'),
  delegate: (input: CreateDelegationInput) => request<DelegationView>('POST', '/v1/me/delegations', input),
  revokeDelegation: (id: string) => request<DelegationView>('POST', `/v1/me/delegations/${seg(id)}/revoke`),
  chatLinks: () => request<{ items: ChatLinkView[] }>('GET', '/v1/me/chat-links'),
  unlinkChat: (key: ChatAccountKey) =>
    request<ChatLinkView>('POST', '/v1/me/chat-links/unlink', { platform: key.platform, workspace: key.workspace, user: key.user }),
  previewChatLink: (token: string) => request<ChatLinkPreview>('POST', '/v1/chat-links/preview', { token }),
  confirmChatLink: (token: string) => request<ConfirmedChatLink>('POST', '/v1/me/chat-links/confirm', { token }),
};

/** The Administration pages' calls (admins only; the gateway refuses anyone else with 403). */
export const admin = {
  people: () => request<{ items: PersonView[] }>('GET', '/v1/admin/users'),
  addPerson: (input: CreatePersonInput) => request<{ user: PersonView; key: IssuedKey | null }>('POST', '/v1/admin/users', input),
  setRole: (user: string, role: Role) => request<PersonView>('POST', `/v1/admin/users/${seg(user)}/role`, { role }),
  setGroups: (user: string, groups: string[]) => request<PersonView>('POST', `/v1/admin/users/${seg(user)}/groups`, { groups }),
  disablePerson: (user: string) => request<PersonView>('POST', `/v1/admin/users/${seg(user)}/disable`),
  enablePerson: (user: string) => request<PersonView>('POST', `/v1/admin/users/${seg(user)}/enable`),
  resetLink: (email: string) => request<ResetLink>('POST', '/v1/admin/password-reset-links', { email }),
  identities: (user: string) => request<{ items: LinkedIdentity[] }>('GET', `/v1/admin/users/${seg(user)}/identities`),
  unlinkIdentity: (user: string, issuer: string, subject: string) =>
    request<{ email: string; issuer: string; subject: string }>('POST', `/v1/admin/users/${seg(user)}/identities/unlink`, {
      issuer,
      subject,
    }),
  passkeys: (user: string) => request<{ items: PasskeyView[] }>('GET', `/v1/admin/users/${seg(user)}/passkeys`),
  removePasskey: (user: string, id: string) => request<PasskeyRemoved>('POST', `/v1/admin/users/${seg(user)}/passkeys/${seg(id)}/remove`),
  groups: () => request<{ items: GroupView[] }>('GET', '/v1/admin/groups'),
  addGroup: (name: string, description?: string) =>
    request<GroupView>('POST', '/v1/admin/groups', description ? { name, description } : { name }),
  agents: () => request<{ items: AgentView[] }>('GET', '/v1/admin/agents'),
  addAgent: (input: CreateAgentInput) => request<{ agent: AgentView; key: IssuedKey }>('POST', '/v1/admin/agents', input),
  disableAgent: (agent: string) => request<{ agent: AgentView; cancelled: string[] }>('POST', `/v1/admin/agents/${seg(agent)}/disable`),
  enableAgent: (agent: string) => request<AgentView>('POST', `/v1/admin/agents/${seg(agent)}/enable`),
  newAgentKey: (agent: string) => request<IssuedKey>('POST', `/v1/admin/agents/${seg(agent)}/keys`),
  keys: () => request<{ items: KeyView[] }>('GET', '/v1/admin/keys'),
  revokeKey: (prefix: string) => request<{ prefix: string; remaining_keys: number }>('POST', `/v1/admin/keys/${seg(prefix)}/revoke`),
  grants: () => request<{ items: GrantView[] }>('GET', '/v1/grants'),
  revokeGrant: (id: string) => request<GrantView>('POST', `/v1/grants/${seg(id)}/revoke`),
};
