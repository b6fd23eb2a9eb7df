/**
 * Agent-written text made safe to put in a message: characters a reader cannot see, or that reorder what
 * is drawn (bidirectional overrides such as U+202E, zero-width characters, Unicode tags, control
 * characters), are replaced by a visible marker such as ⟦U+202E⟧, and text is cut to a length. The same
 * classes as the console's packages/console/src/text/reveal.ts; HTML escaping is a separate, last step
 * (`escapeHtml`), so the text part and the HTML part say exactly the same thing.
 */
const HIDDEN =
  // biome-ignore lint/suspicious/noMisleadingCharacterClass: finding lone combining and joiner characters is the point
  /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u00ad\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200d\u2060-\u2064\u206a-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\u{e0000}-\u{e007f}\u{e0100}-\u{e01ef}\u2028\u2029]/gu;
// Control characters other than tab and line feed (a carriage return alone can forge a line in a text part).
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/gu;

export function marker(code: number): string {
  return `⟦U+${code.toString(16).toUpperCase().padStart(4, '0')}⟧`;
}

/** Every hidden, reordering or control character shown as its marker. */
export function reveal(text: string): string {
  const mark = (ch: string) => marker(ch.codePointAt(0) ?? 0);
  return text.replace(HIDDEN, mark).replace(CONTROL, mark);
}

/** At most `max` characters (by code point, so no surrogate is split), with an ellipsis and the count cut. */
export function truncate(text: string, max: number): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  return `${chars.slice(0, max).join('')}… (${chars.length - max} more characters)`;
}

/** Revealed, then cut: what a message may show of any agent-written string. */
export function safeText(text: string, max: number): string {
  return truncate(reveal(text), max);
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** For HTML text and attribute values (quoted): the five characters that can end either. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}
