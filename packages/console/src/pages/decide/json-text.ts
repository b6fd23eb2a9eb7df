/** The argument editor's text: parsed as JSON, and where it breaks (line and column) when it does not parse. */

export type Parsed =
  | { ok: true; value: Record<string, unknown> }
  | { ok: false; message: string; line: number | null; column: number | null };

/** Line and column (1-based) of a UTF-16 offset in `text`. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split('\n');
  return { line: lines.length, column: (lines[lines.length - 1] ?? '').length + 1 };
}

/** Where the engine's message says parsing stopped: "at position N", or "(line L column C)". */
function where(text: string, message: string): { line: number; column: number } | null {
  const lc = /line (\d+) column (\d+)/.exec(message);
  if (lc) return { line: Number(lc[1]), column: Number(lc[2]) };
  const pos = /position (\d+)/.exec(message);
  if (pos) return lineColumn(text, Number(pos[1]));
  if (/end of (JSON )?input|Unterminated/i.test(message)) return lineColumn(text, text.length);
  return null;
}

/** The arguments as edited: a JSON object, or why not and where. */
export function parseArguments(text: string): Parsed {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const raw = e instanceof Error ? e.message : String(e);
    const at = where(text, raw);
    // The engine's wording, without its own position suffix (we say where, once, in lines and columns).
    const message = raw
      .replace(/\s*\(line \d+ column \d+\)/, '')
      .replace(/\s*in JSON at position \d+/, '')
      .replace(/^JSON\.parse: /, '');
    return { ok: false, message: `Not valid JSON: ${message}`, line: at?.line ?? null, column: at?.column ?? null };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, message: 'The arguments must be a JSON object ({ … })', line: 1, column: 1 };
  }
  return { ok: true, value: value as Record<string, unknown> };
}
