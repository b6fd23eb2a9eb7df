/** Keyboard shortcuts of the inbox and the action page: which key means what, never while typing. */

export type KeyCommand = 'next' | 'previous' | 'open' | 'approve' | 'deny' | 'edit' | 'help';

export const KEY_HELP: readonly { key: string; what: string; where: 'inbox' | 'both' }[] = [
  { key: 'j', what: 'Select the next action', where: 'inbox' },
  { key: 'k', what: 'Select the previous action', where: 'inbox' },
  { key: 'Enter', what: 'Open the selected action', where: 'inbox' },
  { key: 'a', what: 'Approve (the selected action in the inbox)', where: 'both' },
  { key: 'd', what: 'Deny: go to the reason', where: 'both' },
  { key: 'e', what: 'Edit the arguments, then approve', where: 'both' },
  { key: '?', what: 'Show these shortcuts (Esc closes)', where: 'both' },
];

/** What the event targets: typing there is text, never a command. */
export interface KeyTarget {
  tagName?: string;
  isContentEditable?: boolean;
  type?: string;
}

const TEXT_INPUTS = new Set(['text', 'search', 'email', 'number', 'password', 'url', 'tel', '']);

export function isTyping(t: KeyTarget | null): boolean {
  if (!t) return false;
  if (t.isContentEditable) return true;
  const tag = (t.tagName ?? '').toUpperCase();
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  return tag === 'INPUT' && TEXT_INPUTS.has((t.type ?? '').toLowerCase());
}

/** The command a key press means, or null (modifiers, typing, or a key that means nothing here). */
export function commandOf(e: {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  target: KeyTarget | null;
}): KeyCommand | null {
  if (e.ctrlKey || e.metaKey || e.altKey || isTyping(e.target)) return null;
  // Enter on a link or a button is that control's own (it follows the link, presses the button).
  const tag = (e.target?.tagName ?? '').toUpperCase();
  if (e.key === 'Enter' && (tag === 'A' || tag === 'BUTTON')) return null;
  switch (e.key) {
    case 'j':
      return 'next';
    case 'k':
      return 'previous';
    case 'Enter':
      return 'open';
    case 'a':
      return 'approve';
    case 'd':
      return 'deny';
    case 'e':
      return 'edit';
    case '?':
      return 'help';
    default:
      return null;
  }
}
