import { safeText } from '../render/safe-text.js';

/**
 * Slack text objects for text that may come from an agent. `plain_text` is never parsed by Slack (no
 * mentions, links or formatting), so agent text goes there; `emoji: false` keeps `:codes:` literal.
 */
export interface PlainText {
  type: 'plain_text';
  text: string;
  emoji: false;
}

export function plain(text: string, max = 3000): PlainText {
  // Already revealed by the summary; cut again to the block's own limit (by code point, with the count).
  const chars = [...text];
  const cut = chars.length <= max ? text : max > 60 ? safeText(text, max - 40) : chars.slice(0, max).join('');
  return { type: 'plain_text', text: cut.length > 0 ? cut : ' ', emoji: false };
}

/**
 * For the message's top-level `text` (notifications, screen readers), which Slack parses as mrkdwn: `&`, `<`
 * and `>` escaped as Slack documents, so `<!channel>`, `<@U…>` and `<https://…|label>` stay text.
 */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
