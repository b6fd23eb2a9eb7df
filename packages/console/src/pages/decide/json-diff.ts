/** What a reviewer's edit changes, path by path: added, removed, or changed (old → new). */

export type Change =
  | { kind: 'added'; path: string; to: unknown }
  | { kind: 'removed'; path: string; from: unknown }
  | { kind: 'changed'; path: string; from: unknown; to: unknown };

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `env`, `items[0].name`, `["odd key"]`: a JSON path as people read it. */
export function childPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  if (IDENT.test(key)) return parent === '' ? key : `${parent}.${key}`;
  return `${parent}[${JSON.stringify(key)}]`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Deep equality of JSON values (key order does not matter). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => sameJson(v, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && sameJson(a[k], b[k]));
  }
  return false;
}

/** Every difference between `from` and `to`, in document order; objects and arrays are compared member by member. */
export function diffJson(from: unknown, to: unknown, path = ''): Change[] {
  if (sameJson(from, to)) return [];
  if (isObject(from) && isObject(to)) {
    const out: Change[] = [];
    for (const k of Object.keys(from)) {
      const p = childPath(path, k);
      if (!Object.hasOwn(to, k)) out.push({ kind: 'removed', path: p, from: from[k] });
      else out.push(...diffJson(from[k], to[k], p));
    }
    for (const k of Object.keys(to)) if (!Object.hasOwn(from, k)) out.push({ kind: 'added', path: childPath(path, k), to: to[k] });
    return out;
  }
  if (Array.isArray(from) && Array.isArray(to)) {
    const out: Change[] = [];
    const n = Math.max(from.length, to.length);
    for (let i = 0; i < n; i++) {
      const p = childPath(path, i);
      if (i >= to.length) out.push({ kind: 'removed', path: p, from: from[i] });
      else if (i >= from.length) out.push({ kind: 'added', path: p, to: to[i] });
      else out.push(...diffJson(from[i], to[i], p));
    }
    return out;
  }
  return [{ kind: 'changed', path: path === '' ? '(the arguments)' : path, from, to }];
}
