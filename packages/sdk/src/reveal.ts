/**
 * Making hostile text visible. An agent (or a prompt injection steering it) can hide what it asks for with
 * characters a browser draws as nothing or that reorder what is drawn: bidirectional overrides (U+202E
 * shows "exe.txt" for "txt.exe"), zero-width characters, Unicode tags, control characters. Each is shown as
 * a visible marker such as ⟦U+202E⟧ and flagged. Words mixing Latin with Cyrillic or Greek letters (a
 * homoglyph trick: "pаypal" with a Cyrillic а) are flagged too.
 */

export type Flag = 'bidi' | 'invisible' | 'control' | 'mixed-script';

export type Segment =
  | { kind: 'text'; text: string }
  | { kind: 'hidden'; code: number; label: string; flag: Flag }
  | { kind: 'suspicious'; text: string; scripts: string[] };

const NAMES: Record<number, string> = {
  173: 'SOFT HYPHEN',
  1564: 'ARABIC LETTER MARK',
  8203: 'ZERO WIDTH SPACE',
  8204: 'ZERO WIDTH NON-JOINER',
  8205: 'ZERO WIDTH JOINER',
  8206: 'LEFT-TO-RIGHT MARK',
  8207: 'RIGHT-TO-LEFT MARK',
  8234: 'LEFT-TO-RIGHT EMBEDDING',
  8235: 'RIGHT-TO-LEFT EMBEDDING',
  8236: 'POP DIRECTIONAL FORMATTING',
  8237: 'LEFT-TO-RIGHT OVERRIDE',
  8238: 'RIGHT-TO-LEFT OVERRIDE',
  8288: 'WORD JOINER',
  8294: 'LEFT-TO-RIGHT ISOLATE',
  8295: 'RIGHT-TO-LEFT ISOLATE',
  8296: 'FIRST STRONG ISOLATE',
  8297: 'POP DIRECTIONAL ISOLATE',
  65279: 'ZERO WIDTH NO-BREAK SPACE',
};

const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;
// Drawn as nothing: zero-width and joiner characters, fillers, variation selectors, tags, invisible operators.
const INVISIBLE =
  // biome-ignore lint/suspicious/noMisleadingCharacterClass: finding lone combining and joiner characters is the point
  /[\u00ad\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200d\u2060-\u2064\u206a-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\u{e0000}-\u{e007f}\u{e0100}-\u{e01ef}]/u;
// Control characters other than the line breaks and tabs that lay text out.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/u;
const ANY_HIDDEN = new RegExp(`${BIDI.source}|${INVISIBLE.source}|${CONTROL.source}`, 'u');
const ANY_HIDDEN_G = new RegExp(ANY_HIDDEN.source, 'gu');

const SCRIPTS: [string, RegExp][] = [
  ['Latin', /\p{Script=Latin}/u],
  ['Cyrillic', /\p{Script=Cyrillic}/u],
  ['Greek', /\p{Script=Greek}/u],
  ['Armenian', /\p{Script=Armenian}/u],
  ['Cherokee', /\p{Script=Cherokee}/u],
];
const WORD_G = /[\p{L}\p{M}]+/gu;
const LOOKALIKE = /[\p{Script=Cyrillic}\p{Script=Greek}\p{Script=Armenian}\p{Script=Cherokee}]/u;

function hiddenFlag(ch: string): Flag {
  if (BIDI.test(ch)) return 'bidi';
  if (CONTROL.test(ch)) return 'control';
  return 'invisible';
}

export function codeLabel(code: number): string {
  const hex = code.toString(16).toUpperCase().padStart(4, '0');
  return `U+${hex}`;
}

export function describeCode(code: number): string {
  return NAMES[code] ?? (code >= 0xe0000 && code <= 0xe007f ? 'TAG CHARACTER' : 'invisible or control character');
}

function scriptsOf(word: string): string[] {
  return SCRIPTS.filter(([, re]) => re.test(word)).map(([name]) => name);
}

/** The flags a whole string raises (fast: a few regular expression scans, whatever its length). */
export function flagsOf(text: string): Set<Flag> {
  const flags = new Set<Flag>();
  if (ANY_HIDDEN.test(text)) {
    for (const m of text.matchAll(ANY_HIDDEN_G)) {
      flags.add(hiddenFlag(m[0]));
      if (flags.size === 3) break;
    }
  }
  if (LOOKALIKE.test(text)) {
    for (const m of text.matchAll(WORD_G)) {
      if (scriptsOf(m[0]).length > 1) {
        flags.add('mixed-script');
        break;
      }
    }
  }
  return flags;
}

function splitSuspicious(text: string, out: Segment[]): void {
  if (!LOOKALIKE.test(text)) {
    out.push({ kind: 'text', text });
    return;
  }
  let at = 0;
  for (const m of text.matchAll(WORD_G)) {
    const scripts = scriptsOf(m[0]);
    if (scripts.length < 2) continue;
    if (m.index > at) out.push({ kind: 'text', text: text.slice(at, m.index) });
    out.push({ kind: 'suspicious', text: m[0], scripts });
    at = m.index + m[0].length;
  }
  if (at < text.length) out.push({ kind: 'text', text: text.slice(at) });
}

/** The string cut into plain text, visible markers for hidden characters, and words that mix scripts. */
export function reveal(text: string): Segment[] {
  const out: Segment[] = [];
  let at = 0;
  for (const m of text.matchAll(ANY_HIDDEN_G)) {
    if (m.index > at) splitSuspicious(text.slice(at, m.index), out);
    const code = m[0].codePointAt(0) as number;
    out.push({ kind: 'hidden', code, label: `⟦${codeLabel(code)}⟧`, flag: hiddenFlag(m[0]) });
    at = m.index + m[0].length;
  }
  if (at < text.length) splitSuspicious(text.slice(at), out);
  return out;
}

/**
 * JSON text for a person to edit: the characters `reveal` marks as hidden written as `\uXXXX` escapes, so an
 * editor shows them as text instead of obeying them (an override reversing what follows, a space nobody sees).
 * It parses to exactly the same value: JSON.stringify writes such characters only inside strings, and leaves
 * the line breaks and indentation it adds alone.
 */
export function editableJson(value: unknown, indent = 2): string {
  return (JSON.stringify(value, null, indent) ?? 'null').replace(ANY_HIDDEN_G, (c) => {
    let out = '';
    for (let i = 0; i < c.length; i++) out += `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`;
    return out;
  });
}

export const FLAG_TEXT: Record<Flag, string> = {
  bidi: 'bidirectional control characters (they can reorder what you read)',
  invisible: 'invisible characters',
  control: 'control characters',
  'mixed-script': 'words mixing alphabets (look-alike letters)',
};

/** The same, in a few words, for the marker beside each value. */
export const FLAG_SHORT: Record<Flag, string> = {
  bidi: 'bidi control',
  invisible: 'invisible characters',
  control: 'control characters',
  'mixed-script': 'mixed alphabets',
};

/** A place in a JSON value (`.a.b[2]`, or `… (a key)`) and what its text raises. */
export interface FlaggedPath {
  path: string;
  flags: Set<Flag>;
}

/** Every string inside a JSON value (keys too), with where it is, for a page-level summary of what is flagged. */
export function flaggedPaths(value: unknown, path: string, out: FlaggedPath[] = []): FlaggedPath[] {
  if (typeof value === 'string') {
    const flags = flagsOf(value);
    if (flags.size > 0) out.push({ path, flags });
  } else if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) flaggedPaths(v, `${path}[${i}]`, out);
  } else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      const keyFlags = flagsOf(k);
      if (keyFlags.size > 0) out.push({ path: `${path} (a key)`, flags: keyFlags });
      flaggedPaths(v, `${path}.${k}`, out);
    }
  }
  return out;
}
