import type { Deps } from '../../../deps.js';
import { parseInput } from '../../validate.js';
import { liveChatLinkRequest } from './read-chat-link-request.js';
import { type ChatLinkPreview, iso, TokenBody } from './schemas.js';

/** What a chat link would link (shown before the person confirms); does not use the link. */
export async function previewChatLink(deps: Deps, body: unknown): Promise<ChatLinkPreview> {
  const { token } = parseInput(TokenBody, body);
  const row = await liveChatLinkRequest(deps.db.read, token, deps.clock.now());
  return { platform: row.platform, workspace: row.workspace, user: row.chat_user, display: row.display, expires_at: iso(row.expires_at) };
}
