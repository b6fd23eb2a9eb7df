import { type ReactNode, useMemo, useState } from 'react';
import { SafeText } from './SafeText.js';

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

function Value({ value, depth }: { value: unknown; depth: number }): ReactNode {
  if (typeof value === 'string') {
    return (
      <span className="json-string">
        <SafeText value={value} quoted />
      </span>
    );
  }
  if (value === null || typeof value === 'number' || typeof value === 'boolean') {
    return <span className="json-literal">{String(value)}</span>;
  }
  if (Array.isArray(value) || typeof value === 'object') {
    const entries: [string, unknown][] = Array.isArray(value)
      ? value.map((v, i) => [String(i), v])
      : Object.entries(value as Record<string, unknown>);
    const open = Array.isArray(value) ? '[' : '{';
    const close = Array.isArray(value) ? ']' : '}';
    if (entries.length === 0) return <span className="json-literal">{open + close}</span>;
    return (
      <details className="json-node" open={depth < 3}>
        <summary>
          {open} {entries.length}{' '}
          {Array.isArray(value) ? (entries.length === 1 ? 'item' : 'items') : entries.length === 1 ? 'field' : 'fields'} {close}
        </summary>
        <ul>
          {entries.map(([k, v]) => (
            <li key={k}>
              <span className="json-key">{Array.isArray(value) ? k : <SafeText value={k} limit={200} />}</span>:{' '}
              <Value value={v} depth={depth + 1} />
            </li>
          ))}
        </ul>
      </details>
    );
  }
  return <span className="json-literal">{String(value)}</span>;
}

/** A JSON value pretty-printed and collapsible, with its size and the raw JSON one click away; every string drawn safely. */
export function JsonView({ value, label }: { value: unknown; label: string }): ReactNode {
  const [raw, setRaw] = useState(false);
  const text = useMemo(() => JSON.stringify(value, null, 2), [value]);
  const size = useMemo(() => new TextEncoder().encode(JSON.stringify(value)).length, [value]);
  return (
    <section className="json-view" aria-label={label}>
      <div className="json-toolbar">
        <span className="muted" data-testid="json-size">
          {formatBytes(size)}
        </span>
        <button type="button" className="link" aria-pressed={raw} onClick={() => setRaw(!raw)}>
          {raw ? 'Show formatted' : 'Show raw JSON'}
        </button>
      </div>
      {raw ? (
        <pre className="json-raw">
          <SafeText value={text} limit={20000} />
        </pre>
      ) : (
        <div className="json-tree">
          <Value value={value} depth={0} />
        </div>
      )}
    </section>
  );
}
