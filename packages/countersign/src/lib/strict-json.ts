import { randomBytes } from 'node:crypto';
import { CsError, type ErrorIssue } from './errors.js';

/**
 * JSON that JSON.parse accepts but that cannot be stored and read back exactly: a number that
 * overflows to Infinity (`1e400`), an integer literal outside ±(2^53−1) (`18446744073709551617`
 * would silently become 18446744073709552000, so a reviewer would approve one value and the
 * receipt bind another), and a lone UTF-16 surrogate (`"\ud800"`, in a value or a key), which
 * has no UTF-8 encoding and which RFC 8785 canonicalization refuses. Everything else round-trips
 * as JSON.stringify(JSON.parse(text)) does, so it is accepted.
 */

// String.prototype.isWellFormed is in Node 20 but not in the ES2023 lib this package compiles against.
const isWellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

/** At most this many issues are reported; one is enough to refuse, a few help the caller fix the rest. */
const MAX_ISSUES = 10;

/** An unsafe integer literal has at least 16 digits; without such a run the text needs no scan. */
const LONG_DIGIT_RUN = /\d{16}/;

/** Throws 400 invalid_request naming the JSON path of every value that cannot round-trip. */
export function assertStrictJson(text: string, value: unknown, what = 'body'): void {
  const issues = jsonValueIssues(value);
  const spans = LONG_DIGIT_RUN.test(text) ? unsafeIntegerLiterals(text) : [];
  if (spans.length > 0) issues.push(...integerIssues(text, spans));
  if (issues.length === 0) return;
  const shown = issues.slice(0, MAX_ISSUES);
  throw new CsError('invalid_request', `invalid ${what}: ${shown.map((i) => `${i.path}: ${i.message}`).join('; ')}`, {
    issues: shown,
  });
}

/**
 * Throws 400 invalid_request if a string in a parsed query string, path or header set has a lone
 * surrogate or a NUL. These are compared with or stored in text columns as they are (not as JSON),
 * and PostgreSQL text cannot hold NUL: refused here, both dialects answer the same. (`nul: false` for
 * path ids: their routes check the id's shape first and answer a malformed one, NUL included, with 404.)
 */
export function assertStorableStrings(value: unknown, what: string, opts: { nul: boolean } = { nul: true }): void {
  // Every request's headers pass here: the clean case is one walk without paths, as in jsonValueIssues.
  if (allStorable(value, opts.nul)) return;
  const issues = jsonValueIssues(value);
  walk(value, (v, path) => {
    if (opts.nul && typeof v === 'string' && v.includes('\0') && issues.length < MAX_ISSUES)
      issues.push({ path: pathText(path), message: 'contains a NUL character' });
    return true;
  });
  if (issues.length === 0) return;
  const shown = issues.slice(0, MAX_ISSUES);
  throw new CsError('invalid_request', `invalid ${what}: ${shown.map((i) => `${i.path}: ${i.message}`).join('; ')}`, {
    issues: shown,
  });
}

const LONE_SURROGATE = 'contains a lone UTF-16 surrogate (an unpaired \\ud800-\\udfff escape), which has no UTF-8 encoding';
const NOT_FINITE = 'is a number too large to represent (it overflows to Infinity)';

/** A path as a parent-linked list: a child costs one node, so a hostile deep document stays linear to walk. */
interface PathNode {
  key: string;
  parent: PathNode | null;
}

/** Visits every value and key, depth first, iteratively (a deeply nested document cannot exhaust the stack). */
function walk(value: unknown, visit: (v: unknown, path: PathNode | null, isKey: boolean) => boolean): void {
  const stack: Array<[unknown, PathNode | null]> = [[value, null]];
  while (stack.length > 0) {
    const [v, path] = stack.pop() as [unknown, PathNode | null];
    if (!visit(v, path, false)) return;
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], { key: String(i), parent: path }]);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        const node = { key: k, parent: path };
        if (!visit(k, node, true)) return;
        stack.push([child, node]);
      }
    }
  }
}

/** Non-finite numbers and lone surrogates in values and keys, with their paths. */
export function jsonValueIssues(value: unknown): ErrorIssue[] {
  const issues: ErrorIssue[] = [];
  if (allStorable(value)) return issues;
  walk(value, (v, path, isKey) => {
    if (typeof v === 'string' && !isWellFormed(v)) {
      issues.push({ path: pathText(path), message: isKey ? `the key ${LONE_SURROGATE}` : LONE_SURROGATE });
    } else if (typeof v === 'number' && !Number.isFinite(v)) {
      issues.push({ path: pathText(path), message: NOT_FINITE });
    }
    return issues.length < MAX_ISSUES;
  });
  return issues;
}

/**
 * The common case, answered without building paths (about twice as fast on a large body): true when
 * no value or key is a lone-surrogate string or a non-finite number (nor, with `nul`, a string or
 * key holding a NUL). Only a false answer pays for the walk that names paths.
 */
function allStorable(value: unknown, nul = false): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (!isWellFormed(v) || (nul && v.includes('\0'))) return false;
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) return false;
    } else if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) stack.push(v[i]);
    } else if (v !== null && typeof v === 'object') {
      for (const k of Object.keys(v)) {
        if (!isWellFormed(k) || (nul && k.includes('\0'))) return false;
        stack.push((v as Record<string, unknown>)[k]);
      }
    }
  }
  return true;
}

/** A path as validate.ts writes it; a key's lone surrogates are shown escaped so the error itself stays well formed. */
function pathText(path: PathNode | null): string {
  if (path === null) return '(root)';
  const keys: string[] = [];
  for (let n: PathNode | null = path; n !== null; n = n.parent) keys.push(isWellFormed(n.key) ? n.key : JSON.stringify(n.key).slice(1, -1));
  return keys.reverse().join('.');
}

/**
 * [start, end) of every integer literal (no fraction, no exponent) outside ±(2^53−1), found by one
 * pass over text that JSON.parse has already accepted (so every token is well formed). The literal,
 * not the value, decides: `1e300` is a double by its author's own notation and round-trips as one.
 */
export function unsafeIntegerLiterals(text: string): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // A string: skip to its closing quote; an escape covers the character after the backslash.
      i += 1;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i += 2;
        else {
          i += 1;
          if (d === 0x22) break;
        }
      }
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      const start = i;
      let integer = true;
      i += 1;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d >= 0x30 && d <= 0x39) i += 1;
        else if (d === 0x2e || d === 0x65 || d === 0x45 || d === 0x2b || d === 0x2d) {
          integer = false;
          i += 1;
        } else break;
      }
      if (integer && !Number.isSafeInteger(Number(text.slice(start, i)))) spans.push([start, i]);
    } else {
      i += 1;
    }
  }
  return spans;
}

/**
 * Names where each unsafe literal sits: the text is parsed again with each literal replaced by a
 * unique marker string, and the markers are found in the result. (Key order and duplicate keys
 * make token order differ from the parsed structure, so counting tokens would misplace them.)
 */
function integerIssues(text: string, spans: Array<[number, number]>): ErrorIssue[] {
  const nonce = randomBytes(8).toString('hex');
  let marked = '';
  let at = 0;
  spans.forEach(([start, end], k) => {
    marked += `${text.slice(at, start)}"${nonce}:${k}"`;
    at = end;
  });
  marked += text.slice(at);
  const found = new Map<number, string>();
  walk(JSON.parse(marked), (v, path, isKey) => {
    if (!isKey && typeof v === 'string' && v.startsWith(`${nonce}:`)) found.set(Number(v.slice(nonce.length + 1)), pathText(path));
    return true;
  });
  return spans.map(([start, end], k) => {
    const literal = text.slice(start, end);
    return {
      // A literal that a later duplicate key overwrote has no path in the result; it is refused all the same.
      path: found.get(k) ?? '(root)',
      message: `the integer ${literal.length > 40 ? `${literal.slice(0, 40)}…` : literal} is outside ±(2^53−1) and would not be stored exactly; send it as a string`,
    };
  });
}
