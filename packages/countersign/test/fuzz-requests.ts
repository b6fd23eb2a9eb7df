import { randomUUID } from 'node:crypto';

/**
 * Request generator for fuzzing every route of /openapi.json: valid-ish requests built from each
 * operation's schemas, then mutated (wrong types, values that cannot round-trip, huge strings,
 * invalid UTF-8, deep nesting, duplicate and prototype keys, garbage params and headers), sent with
 * the keys of every role and with none. Shared by test/fuzz-api.test.ts (in-process, bounded) and
 * bench/fuzz-api.ts (real HTTP, long runs). Deterministic for a seed, so a failure can be replayed.
 */

export type Rng = () => number;

/** mulberry32: a small seeded PRNG, so a run is reproducible from its printed seed. */
export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FuzzRequest {
  method: string;
  /** The OpenAPI path template, for reports. */
  route: string;
  url: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

export interface FuzzContext {
  /** API keys by role (agent, reviewer, viewer, admin, owner…); a role with null sends no Authorization. */
  keys: Record<string, string | null>;
  /** Ids that exist (actions, batches, grants), so requests reach past "not found". */
  ids: string[];
  /** Over real HTTP, header values must be Latin-1 (Node's client refuses others); in-process any string goes. */
  latin1Headers: boolean;
}

// biome-ignore lint/suspicious/noExplicitAny: JSON Schema from /openapi.json, read loosely on purpose (any shape is tolerated)
type Schema = Record<string, any>;

export interface Operation {
  method: string;
  path: string;
  params: Array<{ name: string; in: string; required?: boolean; schema?: Schema }>;
  body?: Schema;
}

export function operationsOf(doc: Schema): Operation[] {
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries<Schema>(doc.paths ?? {})) {
    for (const [method, op] of Object.entries<Schema>(item)) {
      ops.push({
        method: method.toUpperCase(),
        path,
        params: op.parameters ?? [],
        body: op.requestBody?.content?.['application/json']?.schema,
      });
    }
  }
  return ops;
}

/** A JSON fragment written as-is into the body text: how values JSON.stringify cannot produce get in. */
class Raw {
  constructor(readonly text: string) {}
}

const deep = (n: number) => new Raw(`${'['.repeat(n)}${']'.repeat(n)}`);
const GARBAGE_VALUES: Array<() => unknown> = [
  ...['NaN', 'Infinity', '-Infinity', '1e400', '-1e400', '1e-400', '0.1e310', '-0', '18446744073709551617', '9007199254740993'].map(
    (t) => () => new Raw(t),
  ),
  () => new Raw(`1${'0'.repeat(400)}`),
  () => new Raw(`0.${'1'.repeat(600)}`),
  ...['"\\ud800"', '"\\udfff\\ud800"', '"a\\udbff"', '"\\u0000"', '"\\u0000\\u001f\\u007f"', '"\\u202e\\ufeff\\u2028"'].map(
    (t) => () => new Raw(t),
  ),
  () => new Raw('{"__proto__":{"admin":true}}'),
  () => new Raw('{"constructor":{"prototype":{"admin":true}}}'),
  () => new Raw('{"a":1,"a":2,"a":"\\ud800"}'),
  () => new Raw('{"\\ud800":1}'),
  () => deep(33),
  () => deep(2000),
  () => deep(60_000),
  () => 'x'.repeat(300_000),
  () => 'é'.repeat(70_000),
  () => '😀'.repeat(5000),
  () => '\0',
  () => 'line\r\nbreak',
  () => '',
  () => ' ',
  () => null,
  () => true,
  () => 0,
  () => -1,
  () => 2 ** 31,
  () => 1.5,
  () => [],
  () => ({}),
  () => [1, 'a', null],
  () => ({ nested: { deeper: ['x'] } }),
  () => randomUUID(),
  () => 'approve',
  () => 'deny',
];

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)] as T;
const chance = (rng: Rng, p: number) => rng() < p;
const word = (rng: Rng) => pick(rng, ['deploy', 'read', 'get_logs', 'shell', 'env', 'production', 'staging', 'a', 'x y', 'ünï', '']);

function resolve(doc: Schema, s: Schema | undefined): Schema {
  let out = s ?? {};
  for (let i = 0; i < 8 && typeof out.$ref === 'string'; i++) {
    out =
      out.$ref
        .split('/')
        .slice(1)
        .reduce((o: Schema, k: string) => o?.[k], doc) ?? {};
  }
  return out;
}

function anyJson(rng: Rng, depth: number): unknown {
  const r = rng();
  if (depth > 3 || r < 0.5) return pick(rng, [word(rng), Math.floor(rng() * 1000), rng(), true, false, null]);
  if (r < 0.75) return Array.from({ length: Math.floor(rng() * 3) }, () => anyJson(rng, depth + 1));
  return Object.fromEntries(Array.from({ length: Math.floor(rng() * 3) }, () => [word(rng), anyJson(rng, depth + 1)]));
}

/** A value the schema describes (roughly: enough to get past validation often). */
export function valueFor(doc: Schema, schema: Schema | undefined, ctx: FuzzContext, rng: Rng, depth = 0): unknown {
  const s = resolve(doc, schema);
  if (Array.isArray(s.enum)) return pick(rng, s.enum);
  if (s.const !== undefined) return s.const;
  const alternatives = s.anyOf ?? s.oneOf;
  if (Array.isArray(alternatives)) return valueFor(doc, pick(rng, alternatives), ctx, rng, depth + 1);
  if (depth > 6) return null;
  switch (s.type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, sub] of Object.entries<Schema>(s.properties ?? {})) {
        if ((s.required ?? []).includes(k) || chance(rng, 0.5)) out[k] = valueFor(doc, sub, ctx, rng, depth + 1);
      }
      if (!s.properties) for (let i = Math.floor(rng() * 3); i > 0; i--) out[word(rng)] = anyJson(rng, depth);
      return out;
    }
    case 'array':
      return Array.from({ length: Math.max(s.minItems ?? 0, Math.floor(rng() * 3)) }, () => valueFor(doc, s.items, ctx, rng, depth + 1));
    case 'integer':
    case 'number':
      return (s.minimum ?? 0) + Math.floor(rng() * 10);
    case 'boolean':
      return chance(rng, 0.5);
    case 'string':
      if (s.format === 'uuid') return chance(rng, 0.8) && ctx.ids.length > 0 ? pick(rng, ctx.ids) : randomUUID();
      if (s.format === 'email') return pick(rng, ['alice@example.com', 'bob@example.com', 'nobody@example.com']);
      if (typeof s.pattern === 'string' && s.pattern.startsWith('^\\d')) return pick(rng, ['0', '0.05', '0.5', '999']);
      return word(rng) || 'x';
    default:
      return anyJson(rng, depth);
  }
}

/** Replaces one node of the value (chosen at random, the root included) with garbage. */
function mutate(value: unknown, rng: Rng): unknown {
  const garbage = pick(rng, GARBAGE_VALUES)();
  if (value === null || typeof value !== 'object' || chance(rng, 0.15)) return garbage;
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
  if (entries.length === 0 || chance(rng, 0.2)) {
    if (Array.isArray(value)) return [...value, garbage];
    return { ...value, [chance(rng, 0.5) ? word(rng) : pick(rng, ['__proto__', 'constructor', '\ud800', 'x'.repeat(5000)])]: garbage };
  }
  const [k, v] = pick(rng, entries);
  if (Array.isArray(value)) return value.map((x, i) => (String(i) === k ? mutate(v, rng) : x));
  return { ...value, [k]: mutate(v, rng) };
}

/** JSON text of a value holding Raw fragments; objects sometimes repeat a key. */
function write(v: unknown, rng: Rng): string {
  if (v instanceof Raw) return v.text;
  if (Array.isArray(v)) return `[${v.map((x) => write(x, rng)).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const parts = Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}:${write(x, rng)}`);
    if (parts.length > 0 && chance(rng, 0.05)) parts.push(pick(rng, parts));
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** Whole-body damage: truncation, invalid UTF-8 bytes, non-JSON. */
function damageBody(text: string, rng: Rng): string | Buffer {
  switch (Math.floor(rng() * 7)) {
    case 0:
      return text.slice(0, Math.floor(rng() * text.length));
    case 1: {
      const at = Math.floor(rng() * text.length);
      const bytes = pick(rng, [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82]]);
      return Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from(bytes), Buffer.from(text.slice(at))]);
    }
    case 2:
      return pick(rng, ['', 'null', '[]', '"x"', '0', 'undefined', '{', '}', '{"a":1}{"b":2}', '\ufeff{}']);
    case 3:
      return Buffer.from(Array.from({ length: Math.floor(rng() * 64) }, () => Math.floor(rng() * 256)));
    case 4:
      return `${text}${' '.repeat(Math.floor(rng() * 10))}x`;
    case 5:
      return `\ufeff${text}`;
    default:
      return text.replace(/"/, "'");
  }
}

const PATH_GARBAGE = [
  '%ED%A0%80',
  '%00',
  '%FF',
  '%2e%2e%2f',
  'x'.repeat(200),
  '%F0%9F%98%80',
  'null',
  '-1',
  '%20',
  '%uD800',
  'a%2Fb',
  '1e400',
];
const QUERY_GARBAGE = ['%ED%A0%80', '%ZZ', '', 'x'.repeat(5000), '1e400', '-1', 'true', '%00', '%F0%9F%98%80', '%C0%80', 'NaN'];

function headerValue(ctx: FuzzContext, rng: Rng, candidates: string[]): string {
  const v = pick(rng, candidates);
  // Node's HTTP client refuses header values outside Latin-1 or with CR/LF; keep what a socket could carry.
  return ctx.latin1Headers ? v.replace(/[^\t\x20-\x7e\x80-\xff]/g, '?') : v;
}

/** One request for an operation: valid-ish, mutated, or garbage in its body, params and headers. */
export function makeRequest(doc: Schema, op: Operation, ctx: FuzzContext, rng: Rng): FuzzRequest {
  let path = op.path;
  const query: string[] = [];
  const headers: Record<string, string> = {};
  for (const p of op.params) {
    if (p.in === 'path') {
      const id = chance(rng, 0.75) && ctx.ids.length > 0 ? pick(rng, ctx.ids) : chance(rng, 0.5) ? randomUUID() : pick(rng, PATH_GARBAGE);
      path = path.replace(`{${p.name}}`, id);
    } else if (p.in === 'query' && (p.required || chance(rng, 0.4))) {
      const v = chance(rng, 0.7) ? encodeURIComponent(String(valueFor(doc, p.schema, ctx, rng))) : pick(rng, QUERY_GARBAGE);
      query.push(`${p.name}=${v}`);
      if (chance(rng, 0.05)) query.push(`${p.name}=${v}`);
    } else if (p.in === 'header' && chance(rng, 0.5)) {
      headers[p.name] = headerValue(ctx, rng, [
        randomUUID(),
        'k',
        '',
        'x'.repeat(2000),
        '\ud800',
        '\xff\xfe',
        '123',
        '-1',
        '999999999999999999999',
      ]);
    }
  }
  if (chance(rng, 0.1)) query.push(pick(rng, ['unknown=1', 'limit=1e400', '__proto__=x', 'a[b]=c', '=', '&&']));
  const role = pick(rng, Object.keys(ctx.keys));
  const key = ctx.keys[role];
  if (key) headers.authorization = `Bearer ${key}`;
  else if (chance(rng, 0.5)) {
    headers.authorization = headerValue(ctx, rng, [
      'Bearer ',
      'Bearer cs_zz_zz',
      'Basic Zm9vOmJhcg==',
      'Bearer cs_000000000000_x',
      `Bearer ${'a'.repeat(3000)}`,
      'Bearer \ud800',
    ]);
  }
  if (chance(rng, 0.1)) headers.accept = pick(rng, ['text/event-stream', 'application/json', '*/*', 'text/plain', 'text/*;q=0.1']);
  if (chance(rng, 0.05)) headers['last-event-id'] = headerValue(ctx, rng, ['-1', '1e400', '99999999999999999999', 'x', '\ud800']);

  const req: FuzzRequest = { method: op.method, route: op.path, url: query.length > 0 ? `${path}?${query.join('&')}` : path, headers };
  if (op.method === 'POST' || chance(rng, 0.03)) {
    let value = valueFor(doc, op.body, ctx, rng);
    if (chance(rng, 0.6)) value = mutate(value, rng);
    const text = write(value, rng);
    req.body = chance(rng, 0.1) ? damageBody(text, rng) : text;
    headers['content-type'] = chance(rng, 0.92)
      ? 'application/json'
      : pick(rng, ['text/plain', 'application/json; charset=latin1', 'application/x-www-form-urlencoded', 'application/json;;', '']);
  }
  return req;
}

/** The policy the boundary tests and the fuzzer run under: `read` passes at once, anything else waits for review. */
export const FUZZ_POLICY = `
policy:
  default: review
  rules:
    - name: reads
      when: tool == "read"
      effect: allow
`;
