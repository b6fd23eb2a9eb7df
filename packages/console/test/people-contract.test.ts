// The people endpoints as the Account and Administration pages read them (src/api/people-types.ts), held to
// the gateway's zod schemas: `npm run typecheck` fails when they drift apart.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { z } from 'zod';
import type { GrantView } from '../../countersign/src/domain/grants/schemas.js';
import type { ChatLinkPreview, ChatLinkView, ConfirmedChatLink } from '../../countersign/src/domain/identities/chat-links/schemas.js';
import type { CreateDelegationBody, DelegationView, MyDelegations } from '../../countersign/src/domain/identities/delegations/schemas.js';
import type { LinkedIdentityView } from '../../countersign/src/domain/identities/oidc/list-linked-identities.js';
import type { PasskeyView } from '../../countersign/src/domain/identities/passkeys/schemas.js';
import type {
  AgentAdminView,
  CreateAgentBody,
  CreatePersonBody,
  GroupView,
  IssuedKeyView,
  KeyView,
  PersonView,
} from '../../countersign/src/domain/identities/schemas.js';
import type { SessionView } from '../../countersign/src/domain/identities/sessions/schemas.js';
import { ROUTES } from '../../countersign/src/http/server.js';
import type * as People from '../src/api/people-types.js';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const check = <T extends true>(_: T) => undefined;
type Out<S extends z.ZodType> = z.output<S>;

// What the gateway sends, the pages read as declared, field for field.
check<Same<keyof People.SessionView, keyof SessionView>>(true);
check<SessionView extends People.SessionView ? true : false>(true);
check<Same<keyof People.PasskeyView, keyof PasskeyView>>(true);
check<PasskeyView extends People.PasskeyView ? true : false>(true);
check<Same<keyof People.DelegationView, keyof DelegationView>>(true);
check<DelegationView extends People.DelegationView ? true : false>(true);
check<Out<typeof MyDelegations> extends People.MyDelegations ? true : false>(true);
check<Same<keyof People.PersonView, keyof Out<typeof PersonView>>>(true);
check<Out<typeof PersonView> extends People.PersonView ? true : false>(true);
check<Same<keyof People.AgentView, keyof Out<typeof AgentAdminView>>>(true);
check<Out<typeof AgentAdminView> extends People.AgentView ? true : false>(true);
check<Same<keyof People.KeyView, keyof Out<typeof KeyView>>>(true);
check<Out<typeof KeyView> extends People.KeyView ? true : false>(true);
check<Same<keyof People.GroupView, keyof Out<typeof GroupView>>>(true);
check<Out<typeof GroupView> extends People.GroupView ? true : false>(true);
check<Out<typeof IssuedKeyView> extends People.IssuedKey ? true : false>(true);
check<Same<keyof People.LinkedIdentity, keyof LinkedIdentityView>>(true);
check<LinkedIdentityView extends People.LinkedIdentity ? true : false>(true);
check<Same<keyof People.GrantView, keyof GrantView>>(true);
check<GrantView extends People.GrantView ? true : false>(true);
check<Same<keyof People.ChatLinkView, keyof ChatLinkView>>(true);
check<ChatLinkView extends People.ChatLinkView ? true : false>(true);
check<Same<keyof People.ChatLinkPreview, keyof ChatLinkPreview>>(true);
check<ChatLinkPreview extends People.ChatLinkPreview ? true : false>(true);
check<Same<keyof People.ConfirmedChatLink, keyof ConfirmedChatLink>>(true);
check<ConfirmedChatLink extends People.ConfirmedChatLink ? true : false>(true);
// What the pages send is accepted as-is.
check<People.CreateDelegationInput extends z.input<typeof CreateDelegationBody> ? true : false>(true);
check<People.CreatePersonInput extends z.input<typeof CreatePersonBody> ? true : false>(true);
check<People.CreateAgentInput extends z.input<typeof CreateAgentBody> ? true : false>(true);

test('every path the Account and Administration pages call is a route of the gateway', () => {
  const routes = new Set(ROUTES.map((r) => `${r.method} ${r.url}`));
  for (const call of [
    'GET /v1/me/sessions',
    'POST /v1/me/sessions/:id/revoke',
    'GET /v1/me/passkeys',
    'POST /v1/me/passkeys/options',
    'POST /v1/me/passkeys',
    'POST /v1/me/passkeys/:id/rename',
    'POST /v1/me/passkeys/:id/remove',
    'POST /v1/me/reauthenticate/passkey/options',
    'POST /v1/me/reauthenticate/passkey/verify',
    'GET /v1/me/delegations',
    'POST /v1/me/delegations',
    'POST /v1/me/delegations/:id/revoke',
    'GET /v1/me/chat-links',
    'POST /v1/me/chat-links/unlink',
    'POST /v1/chat-links/preview',
    'POST /v1/me/chat-links/confirm',
    'GET /v1/admin/users',
    'POST /v1/admin/users',
    'POST /v1/admin/users/:user/role',
    'POST /v1/admin/users/:user/groups',
    'POST /v1/admin/users/:user/disable',
    'POST /v1/admin/users/:user/enable',
    'POST /v1/admin/password-reset-links',
    'GET /v1/admin/users/:user/identities',
    'POST /v1/admin/users/:user/identities/unlink',
    'GET /v1/admin/users/:user/passkeys',
    'POST /v1/admin/users/:user/passkeys/:id/remove',
    'GET /v1/admin/groups',
    'POST /v1/admin/groups',
    'GET /v1/admin/agents',
    'POST /v1/admin/agents',
    'POST /v1/admin/agents/:agent/disable',
    'POST /v1/admin/agents/:agent/enable',
    'POST /v1/admin/agents/:agent/keys',
    'GET /v1/admin/keys',
    'POST /v1/admin/keys/:prefix/revoke',
    'GET /v1/grants',
    'POST /v1/grants/:id/revoke',
  ]) {
    assert.ok(routes.has(call), `${call} is a route`);
  }
});
