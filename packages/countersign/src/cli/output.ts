/**
 * Agent-written text (tool names, purposes, arguments) is attacker-controlled:
 * a prompt-injected agent could embed terminal escape sequences that rewrite
 * what the reviewer sees. Everything agent-supplied is passed through this
 * before it reaches a terminal.
 */
export function safeText(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) =>
    c === '\t' ? '  ' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * For fields printed on one line: also escapes line breaks, so agent text (a purpose, say)
 * cannot start lines of its own that read like other fields ("status: approved").
 */
export function safeLine(text: string): string {
  return safeText(text).replace(/\n/g, '\\n');
}

/**
 * JSON for a terminal: JSON.stringify escapes only controls below U+0020, so
 * C1 controls (U+0080–U+009F, which include a CSI introducer), line/paragraph
 * separators and bidi overrides are escaped too. The output is still valid JSON.
 * `indent` 0 gives one line (for scripts that read JSON lines).
 */
export function safeJson(value: unknown, indent = 2): string {
  return JSON.stringify(value, null, indent).replace(
    /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')).join('\n');
}

export function ago(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}
