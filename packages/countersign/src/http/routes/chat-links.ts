import { ErrorBody } from '../../domain/actions/schemas.js';
import { confirmChatLink } from '../../domain/identities/chat-links/confirm-chat-link.js';
import { listChatLinks } from '../../domain/identities/chat-links/list-chat-links.js';
import { previewChatLink } from '../../domain/identities/chat-links/preview-chat-link.js';
import {
  ChatLinkList,
  ChatLinkPreview,
  ChatLinkView,
  ConfirmedChatLink,
  TokenBody,
  UnlinkChatBody,
} from '../../domain/identities/chat-links/schemas.js';
import { unlinkChatAccount } from '../../domain/identities/chat-links/unlink-chat-account.js';
import { findUser } from '../../domain/identities/lookup.js';
import { UserParams } from '../../domain/identities/schemas.js';
import { defineRoute, type RouteSpec } from '../route-spec.js';
import { actorOf } from './admin-people.js';

const err = (description: string) => ({ description, schema: ErrorBody });
const AGENTS = 'agents have no chat account; a person links theirs from the console';
const ADMIN_ONLY = "only an admin may see or unlink another person's chat accounts; GET /v1/me/chat-links lists yours";

/**
 * Linking a person's Slack or Teams account: the chat channel hands the chat user a single-use link
 * (requestChatLink), the person opens it in the console signed in and confirms. The channels then map a
 * clicking chat user to that person (personOfChatAccount).
 */
export const chatLinkRoutes: RouteSpec[] = [
  defineRoute({
    method: 'POST',
    url: '/v1/chat-links/preview',
    operationId: 'previewChatLink',
    summary: 'What a chat link would link (platform, workspace, chat user and name), without using it',
    tags: ['chat-links'],
    auth: 'none',
    body: TokenBody,
    responses: {
      200: { description: 'The chat account', schema: ChatLinkPreview },
      400: err('Invalid request'),
      404: err('Unknown, used or expired link'),
    },
    handler: async ({ deps, body }) => previewChatLink(deps, body),
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/me/chat-links/confirm',
    operationId: 'confirmChatLink',
    summary: 'Link the chat account of a link to me (a signed-in browser session only; single-use)',
    tags: ['chat-links'],
    auth: 'person',
    refusal: AGENTS,
    body: TokenBody,
    responses: {
      200: { description: 'Linked (or already linked to me)', schema: ConfirmedChatLink },
      400: err('Invalid request'),
      401: err('Not authenticated'),
      403: err('An API key or an agent (a browser session only); or cross-site, or without the CSRF token'),
      404: err('Unknown, used or expired link'),
      409: err('That chat account is already linked to someone else'),
    },
    handler: async ({ deps, principal, body }) => confirmChatLink(deps, principal, body),
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/me/chat-links',
    operationId: 'listMyChatLinks',
    summary: 'My linked chat accounts (Slack, Teams)',
    tags: ['chat-links'],
    auth: 'person',
    refusal: AGENTS,
    responses: { 200: { description: 'Linked chat accounts', schema: ChatLinkList }, 401: err('Not authenticated'), 403: err('An agent') },
    handler: async ({ deps, principal }) => ({ items: await listChatLinks(deps.db.read, principal.id) }),
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/me/chat-links/unlink',
    operationId: 'unlinkMyChatAccount',
    summary: 'Unlink one of my chat accounts: its clicks are refused from then on',
    tags: ['chat-links'],
    auth: 'person',
    refusal: AGENTS,
    body: UnlinkChatBody,
    responses: {
      200: { description: 'Unlinked', schema: ChatLinkView },
      400: err('Invalid request'),
      401: err('Not authenticated'),
      403: err('An agent; or cross-site, or without the CSRF token'),
      404: err('That chat account is not linked to me'),
    },
    handler: async ({ deps, principal, body }) =>
      unlinkChatAccount(deps, actorOf(principal), { userId: principal.id, email: principal.email }, body),
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/admin/users/:user/chat-links',
    operationId: 'adminListChatLinks',
    summary: "A person's linked chat accounts (Slack, Teams)",
    tags: ['admin'],
    auth: 'admin',
    refusal: ADMIN_ONLY,
    params: UserParams,
    responses: {
      200: { description: 'Linked chat accounts', schema: ChatLinkList },
      400: err('Invalid request'),
      401: err('Not authenticated'),
      403: err('Not an admin'),
      404: err('No such person'),
    },
    handler: async ({ deps, params }) => {
      const user = await findUser(deps.db.read, params.user);
      return { items: await listChatLinks(deps.db.read, user.id) };
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/admin/users/:user/chat-links/unlink',
    operationId: 'adminUnlinkChatAccount',
    summary: "Unlink one of a person's chat accounts (e.g. a shared or lost account)",
    tags: ['admin'],
    auth: 'admin',
    refusal: ADMIN_ONLY,
    params: UserParams,
    body: UnlinkChatBody,
    responses: {
      200: { description: 'Unlinked', schema: ChatLinkView },
      400: err('Invalid request'),
      401: err('Not authenticated'),
      403: err('Not an admin'),
      404: err('No such person, or that chat account is not linked to them'),
    },
    handler: async ({ deps, principal, params, body }) => {
      const user = await findUser(deps.db.read, params.user);
      return unlinkChatAccount(deps, actorOf(principal), { userId: user.id, email: user.email }, body);
    },
  }),
];
