import { z } from 'zod';
import { ChatAccountKey } from './chat-account.js';

/** Wire shapes of chat-account links: /v1/chat-links, /v1/me/chat-links and /v1/admin/users/{user}/chat-links. */

export const TokenBody = z.strictObject({ token: z.string().min(1).max(200).meta({ description: 'The token from the link’s fragment' }) });

const Platform = z.enum(['slack', 'teams']);

export const ChatLinkPreview = z
  .object({
    platform: Platform,
    workspace: z.string().meta({ description: 'Slack team id, or Teams (Entra ID) tenant id' }),
    user: z.string().meta({ description: 'Slack user id, or Entra ID object id' }),
    display: z.string().meta({ description: 'The chat name, as the chat platform gave it: text, never markup' }),
    expires_at: z.string(),
  })
  .meta({ id: 'ChatLinkPreview' });
export type ChatLinkPreview = z.infer<typeof ChatLinkPreview>;

export const ChatLinkView = z
  .object({
    platform: Platform,
    workspace: z.string(),
    user: z.string(),
    display: z.string().nullable().meta({ description: 'The chat name when it was linked (null when linked by email match)' }),
    linked_at: z.string(),
  })
  .meta({ id: 'ChatLink' });
export type ChatLinkView = z.infer<typeof ChatLinkView>;

export const ChatLinkList = z.object({ items: z.array(ChatLinkView) });

export const UnlinkChatBody = ChatAccountKey;

export const ConfirmedChatLink = ChatLinkView.extend({
  email: z.string().meta({ description: 'The person it is now linked to' }),
  already_linked: z.boolean().meta({ description: 'True when it was already linked to this person: nothing changed' }),
}).meta({ id: 'ConfirmedChatLink' });
export type ConfirmedChatLink = z.infer<typeof ConfirmedChatLink>;

export const iso = (ms: number | string) => new Date(Number(ms)).toISOString();
