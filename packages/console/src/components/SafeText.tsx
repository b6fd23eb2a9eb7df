import { describeCode, FLAG_SHORT, FLAG_TEXT, type Flag, flagsOf, reveal, type Segment } from '@countersign/sdk/reveal';
import { type ReactNode, useMemo, useState } from 'react';

/** How much of a long value is drawn until the reviewer asks for all of it. */
export const DEFAULT_LIMIT = 2000;

/** Cuts at `limit` UTF-16 units without splitting a surrogate pair. */
function cut(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const code = text.charCodeAt(limit - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? limit - 1 : limit);
}

/** One segment; its key is its position (segments of a value are never reordered). */
function drawSegment(s: Segment, i: number): ReactNode {
  switch (s.kind) {
    case 'text':
      return s.text;
    case 'hidden':
      return (
        <mark key={i} className={`hidden-char ${s.flag}`} title={describeCode(s.code)}>
          {s.label}
        </mark>
      );
    case 'suspicious':
      return (
        <mark key={i} className="mixed-script" title={`mixes ${s.scripts.join(' and ')} letters`}>
          {s.text}
        </mark>
      );
    default:
      return s satisfies never;
  }
}

export function Flags({ flags }: { flags: ReadonlySet<Flag> }): ReactNode {
  if (flags.size === 0) return null;
  return (
    <span
      className="flag"
      role="note"
      data-flags={[...flags].join(' ')}
      title={`Contains ${[...flags].map((f) => FLAG_TEXT[f]).join(', ')}`}
    >
      ⚠ {[...flags].map((f) => FLAG_SHORT[f]).join(', ')}
    </span>
  );
}

/**
 * Text the agent wrote, drawn as text: React text nodes only (never HTML), every hidden character shown as
 * a marker such as ⟦U+202E⟧, words mixing alphabets marked, the whole value flagged, and long values cut
 * with an explicit "show all".
 */
export function SafeText({
  value,
  limit = DEFAULT_LIMIT,
  block = false,
  quoted = false,
}: {
  value: string;
  limit?: number;
  block?: boolean;
  /** Drawn between double quotes (a JSON string), with the flags after the closing quote. */
  quoted?: boolean;
}): ReactNode {
  const [all, setAll] = useState(false);
  const flags = useMemo(() => flagsOf(value), [value]);
  const shown = all ? value : cut(value, limit);
  const segments = useMemo(() => reveal(shown), [shown]);
  const hidden = value.length - shown.length;
  const Tag = block ? 'div' : 'span';
  return (
    <Tag className={block ? 'safe-text block' : 'safe-text'}>
      {quoted && '"'}
      <bdi className="safe-text-body">{segments.map(drawSegment)}</bdi>
      {quoted && hidden === 0 && '"'}
      {hidden > 0 && (
        <span className="truncated">
          … {hidden.toLocaleString('en')} more characters{' '}
          <button type="button" className="link" onClick={() => setAll(true)}>
            Show all ({value.length.toLocaleString('en')})
          </button>
        </span>
      )}
      <Flags flags={flags} />
    </Tag>
  );
}
