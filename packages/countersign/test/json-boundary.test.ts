import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { canonicalJson } from '../src/lib/canonical.js';
import { FUZZ_POLICY } from './fuzz-requests.js';
import { type ApiResponse, call, forEachDialect, propose, type World, withPolicy, world } from './helpers.js';

const JSON_TYPE = { 'content-type': 'application/json' };

/** JSON texts JSON.parse accepts that cannot be stored and read back exactly, as they appear on the wire. */
const NUMBER_POISONS = ['1e400', '-1e400', '18446744073709551617', '9007199254740993', '-9007199254740993'];
const STRING_POISONS = ['"\\ud800"', '"\\udfff"', '"a\\ud83dz"', '"\\ude00\\ud83d"'];
const VALUE_POISONS = [...NUMBER_POISONS, ...STRING_POISONS];

async function counts(w: World): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of ['actions', 'reviews', 'grants', 'audit_log', 'events'] as const) {
    const r = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(t)}`.execute(w.gw.deps.db.read);
    out[t] = Number(r.rows[0]?.n);
  }
  return out;
}

interface Target {
  url: string;
  key: string;
}

/** One field that reaches storage: where to send it, and the body text with the poison in place. */
interface Field {
  name: string;
  path: string;
  poisons: string[];
  target(w: World, s: Setup): Target;
  body(poison: string): string;
}

interface Setup {
  pending: string;
  redeemed: string;
  batch: string;
  grant: string;
}

const args = (p: string) => `{"tool":"deploy","arguments":{"x":${p}}}`;

const FIELDS: Field[] = [
  {
    name: 'an argument value',
    path: 'arguments.x',
    poisons: VALUE_POISONS,
    target: (w) => ({ url: '/v1/actions', key: w.keys.agent }),
    body: args,
  },
  {
    name: 'a nested argument value',
    path: 'arguments.deep.0.y',
    poisons: VALUE_POISONS,
    target: (w) => ({ url: '/v1/actions', key: w.keys.agent }),
    body: (p) => `{"tool":"deploy","arguments":{"deep":[{"y":${p}}]}}`,
  },
  {
    name: 'an argument key',
    path: 'arguments.\\ud800',
    poisons: ['"\\ud800"'],
    target: (w) => ({ url: '/v1/actions', key: w.keys.agent }),
    body: (p) => `{"tool":"deploy","arguments":{${p}:1}}`,
  },
  {
    name: 'session_id',
    path: 'session_id',
    poisons: STRING_POISONS,
    target: (w) => ({ url: '/v1/actions', key: w.keys.agent }),
    body: (p) => `{"tool":"deploy","arguments":{},"session_id":${p}}`,
  },
  {
    name: 'resource',
    path: 'resource',
    poisons: STRING_POISONS,
    target: (w) => ({ url: '/v1/actions', key: w.keys.agent }),
    body: (p) => `{"tool":"deploy","arguments":{},"resource":${p}}`,
  },
  {
    name: 'metadata',
    path: 'metadata.m',
    poisons: VALUE_POISONS,
    target: (w) => ({ url: '/v1/actions', key: w.keys.agent }),
    body: (p) => `{"tool":"deploy","arguments":{},"metadata":{"m":${p}}}`,
  },
  {
    name: 'purpose',
    path: 'purpose',
    poisons: STRING_POISONS,
    target: (w) => ({ url: '/v1/actions', key: w.keys.agent }),
    body: (p) => `{"tool":"deploy","arguments":{},"purpose":${p}}`,
  },
  {
    name: 'an annotation',
    path: 'annotations.title',
    poisons: STRING_POISONS,
    target: (w) => ({ url: '/v1/actions', key: w.keys.agent }),
    body: (p) => `{"tool":"deploy","arguments":{},"annotations":{"title":${p}}}`,
  },
  {
    name: 'a batch review reason',
    path: 'reason',
    poisons: STRING_POISONS,
    target: (w, s) => ({ url: `/v1/batches/${s.batch}/reviews`, key: w.keys.alice }),
    body: (p) => `{"decision":"deny","reason":${p}}`,
  },
  {
    name: 'a grant revocation reason',
    path: 'reason',
    poisons: STRING_POISONS,
    target: (w, s) => ({ url: `/v1/grants/${s.grant}/revoke`, key: w.keys.ada }),
    body: (p) => `{"reason":${p}}`,
  },
  {
    name: 'a batch item',
    path: 'actions.1.arguments.x',
    poisons: VALUE_POISONS,
    target: (w) => ({ url: '/v1/actions/batch', key: w.keys.agent }),
    body: (p) => `{"actions":[{"tool":"deploy","arguments":{}},${args(p)}]}`,
  },
  {
    name: 'an argument of a proposal that redeems at once',
    path: 'arguments.x',
    poisons: VALUE_POISONS,
    target: (w) => ({ url: '/v1/actions?redeem=true', key: w.keys.agent }),
    body: (p) => `{"tool":"read","arguments":{"x":${p}}}`,
  },
  {
    name: 'a review reason',
    path: 'reason',
    poisons: STRING_POISONS,
    target: (w, s) => ({ url: `/v1/actions/${s.pending}/reviews`, key: w.keys.alice }),
    body: (p) => `{"decision":"approve","reason":${p}}`,
  },
  {
    name: 'edited arguments',
    path: 'arguments.x',
    poisons: VALUE_POISONS,
    target: (w, s) => ({ url: `/v1/actions/${s.pending}/reviews`, key: w.keys.alice }),
    body: (p) => `{"decision":"approve","arguments":{"x":${p}}}`,
  },
  {
    name: 'grant match arguments',
    path: 'grant.match.arguments.x',
    poisons: VALUE_POISONS,
    target: (w, s) => ({ url: `/v1/actions/${s.pending}/reviews`, key: w.keys.alice }),
    body: (p) => `{"decision":"approve","grant":{"match":{"arguments":{"x":${p}}}}}`,
  },
  {
    name: 'a cancel reason',
    path: 'reason',
    poisons: STRING_POISONS,
    target: (w, s) => ({ url: `/v1/actions/${s.pending}/cancel`, key: w.keys.agent }),
    body: (p) => `{"reason":${p}}`,
  },
  {
    name: 'a result output',
    path: 'output.x',
    poisons: VALUE_POISONS,
    target: (w, s) => ({ url: `/v1/actions/${s.redeemed}/result`, key: w.keys.agent }),
    body: (p) => `{"outcome":"succeeded","output":{"x":${p}}}`,
  },
];

function assertRefused(res: ApiResponse, path: string, what: string): void {
  assert.equal(res.status, 400, `${what}: expected 400, got ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
  assert.equal(res.body.error.code, 'invalid_request', what);
  const paths = res.body.error.issues.map((i: { path: string }) => i.path);
  assert.ok(paths.includes(path), `${what}: issues name ${path}: ${JSON.stringify(res.body.error.issues)}`);
}

forEachDialect('the JSON boundary', (dialect) => {
  let w: World;
  let s: Setup;
  before(async () => {
    w = await world(dialect, { config: withPolicy(FUZZ_POLICY) });
    const pending = await propose(w, { arguments: { env: 'production' } });
    const redeemed = await call(w, 'POST', '/v1/actions?redeem=true', w.keys.agent, { tool: 'read', arguments: {} });
    const batch = await call(w, 'POST', '/v1/actions/batch', w.keys.agent, { actions: [{ tool: 'deploy', arguments: { b: 1 } }] });
    const source = await propose(w, { arguments: { env: 'staging' } });
    await call(w, 'POST', `/v1/actions/${source.body.id}/reviews`, w.keys.alice, { decision: 'approve', grant: {} });
    const grants = await call(w, 'GET', '/v1/grants', w.keys.ada);
    assert.equal(pending.body.status, 'pending');
    assert.equal(redeemed.body.redeemed, true);
    s = { pending: pending.body.id, redeemed: redeemed.body.id, batch: batch.body.batch_id, grant: grants.body.items[0].id };
  });
  after(async () => w.close());

  for (const field of FIELDS) {
    test(`a value that cannot be stored exactly in ${field.name} is a 400 naming its path, and nothing is written`, async () => {
      const target = field.target(w, s);
      for (const poison of field.poisons) {
        const before = await counts(w);
        const res = await call(w, 'POST', target.url, target.key, field.body(poison), JSON_TYPE);
        assertRefused(res, field.path, `${field.name} = ${poison}`);
        assert.deepEqual(await counts(w), before, `${field.name} = ${poison}: nothing written`);
      }
      const ok = await call(w, 'GET', `/v1/actions/${s.pending}`, w.keys.alice);
      assert.equal(ok.body.status, 'pending', 'the pending action was untouched');
    });
  }

  test('an Idempotency-Key header with a lone surrogate is a 400, not a stored key', async () => {
    const before = await counts(w);
    const res = await call(w, 'POST', '/v1/actions', w.keys.agent, { tool: 'deploy', arguments: {} }, { 'idempotency-key': 'k\ud800' });
    assertRefused(res, 'idempotency-key', 'Idempotency-Key');
    assert.deepEqual(await counts(w), before);
  });

  test('a NUL in a query string or a header is a 400 on both dialects, never a storage error', async () => {
    for (const [url, path] of [
      ['/v1/grants?agent=%00', 'agent'],
      ['/v1/actions?agent=a%00b', 'agent'],
      ['/v1/actions?cursor=%00', 'cursor'],
      ['/v1/events?session=%00', 'session'],
    ] as const) {
      assertRefused(await call(w, 'GET', url, w.keys.ada), path, url);
    }
    const res = await call(w, 'POST', '/v1/actions', w.keys.agent, { tool: 'deploy', arguments: {} }, { 'idempotency-key': 'k\0' });
    assertRefused(res, 'idempotency-key', 'Idempotency-Key with NUL');
  });

  test('a NUL in a batch review reason or a grant revocation reason is a 400, as in every other free text', async () => {
    const batch = await call(w, 'POST', '/v1/actions/batch', w.keys.agent, { actions: [{ tool: 'deploy', arguments: { b: 1 } }] });
    assertRefused(
      await call(w, 'POST', `/v1/batches/${batch.body.batch_id}/reviews`, w.keys.alice, { decision: 'deny', reason: 'a\0b' }),
      'reason',
      'batch review reason',
    );
    assertRefused(await call(w, 'POST', `/v1/grants/${s.pending}/revoke`, w.keys.ada, { reason: '\0' }), 'reason', 'revoke reason');
  });

  test('every finite number, safe integer and well-formed string is stored and read back exactly', async () => {
    const text =
      '{"tool":"deploy","arguments":{"tenth":0.1,"huge":1e300,"tiny":5e-324,"neg":-1.5e-300,"max":9007199254740991,' +
      '"min":-9007199254740991,"big_double":1.8446744073709552e19,"zero":-0,"emoji":"\\ud83d\\ude00","nul":"a\\u0000b",' +
      '"ctrl":"\\u001f\\u007f","bom":"\\ufeff","\\ud83d\\ude00":"key","nested":[[{"x":[1,2.5,"3"]}]],"fraction":1.0}}';
    const expected = JSON.parse(text).arguments;
    const res = await call(w, 'POST', '/v1/actions', w.keys.agent, text, JSON_TYPE);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(canonicalJson(res.body.arguments), canonicalJson(expected));
    const back = await call(w, 'GET', `/v1/actions/${res.body.id}`, w.keys.alice);
    assert.equal(canonicalJson(back.body.arguments), canonicalJson(expected));
    assert.equal(back.body.arguments.max, Number.MAX_SAFE_INTEGER);
    assert.equal(back.body.arguments.huge, 1e300);
  });

  test('an integer literal written with an exponent or a fraction is a double by its author and is accepted', async () => {
    const res = await call(
      w,
      'POST',
      '/v1/actions',
      w.keys.agent,
      '{"tool":"deploy","arguments":{"a":1e20,"b":18446744073709551617.5}}',
      JSON_TYPE,
    );
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.deepEqual(res.body.arguments, { a: 1e20, b: Number('18446744073709551617.5') });
  });

  test('several bad values are all named, and the message says what to do', async () => {
    const res = await call(
      w,
      'POST',
      '/v1/actions',
      w.keys.agent,
      '{"tool":"deploy","arguments":{"a":1e400,"b":"\\ud800","c":18446744073709551617}}',
      JSON_TYPE,
    );
    assertRefused(res, 'arguments.a', 'three poisons');
    assertRefused(res, 'arguments.b', 'three poisons');
    assertRefused(res, 'arguments.c', 'three poisons');
    assert.match(res.body.error.message, /send it as a string/);
  });
});
