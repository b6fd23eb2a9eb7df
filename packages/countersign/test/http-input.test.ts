import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { addAgent } from '../src/domain/identities/add-agent.js';
import { addUser } from '../src/domain/identities/add-user.js';
import { generateKey } from '../src/domain/identities/api-keys.js';
import { revokeKey } from '../src/domain/identities/revoke-key.js';
import { newId } from '../src/lib/ids.js';
import { ADMIN, type ApiResponse, call, forEachDialect, propose, review, type World, world } from './helpers.js';

const JSON_TYPE = { 'content-type': 'application/json' };

/** Row counts of every table a request could write to. */
async function counts(w: World): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of ['actions', 'reviews', 'audit_log', 'events', 'api_keys'] as const) {
    const r = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(t)}`.execute(w.gw.deps.db.read);
    out[t] = Number(r.rows[0]?.n);
  }
  return out;
}

/** Sends a bad request and checks it is the given 4xx, carries a code and a message, and wrote nothing. */
async function rejected(w: World, send: () => Promise<ApiResponse>, status: number, code: string): Promise<ApiResponse> {
  const before = await counts(w);
  const res = await send();
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
  assert.ok(res.status >= 400 && res.status < 500);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  assert.equal(res.body.error.code, code);
  assert.equal(typeof res.body.error.message, 'string');
  assert.ok(res.body.error.message.length > 0, 'a human-readable message');
  assert.deepEqual(await counts(w), before, 'a rejected request changes nothing');
  return res;
}

/** JSON nested `levels` deep: 1 is `{}`, 2 is `{"d":{}}`. */
function nested(levels: number): string {
  return `${'{"d":'.repeat(levels - 1)}{}${'}'.repeat(levels - 1)}`;
}

const postRaw = (w: World, url: string, key: string, text: string, headers: Record<string, string> = JSON_TYPE) =>
  call(w, 'POST', url, key, text, headers);

forEachDialect('HTTP input handling', (dialect) => {
  let w: World;
  before(async () => {
    w = await world(dialect);
  });
  after(async () => w.close());

  test('a body that is not valid JSON is a 400 invalid_json', async () => {
    for (const text of ['{"tool":', '{tool: "deploy"}', "{'tool':'deploy'}", '{"tool":"deploy",}', '\u0000']) {
      await rejected(w, () => postRaw(w, '/v1/actions', w.keys.agent, text), 400, 'invalid_json');
    }
  });

  test('a body carrying __proto__ or constructor.prototype is rejected, at the top level or nested', async () => {
    const bodies = [
      '{"tool":"deploy","arguments":{},"__proto__":{"admin":true}}',
      '{"tool":"deploy","arguments":{"__proto__":{"admin":true}}}',
      '{"tool":"deploy","arguments":{"constructor":{"prototype":{"admin":true}}}}',
    ];
    for (const text of bodies) await rejected(w, () => postRaw(w, '/v1/actions', w.keys.agent, text), 400, 'invalid_json');
    assert.equal(({} as Record<string, unknown>).admin, undefined, 'no prototype was polluted');
  });

  test('an empty body with a JSON content type is a 400 invalid_json', async () => {
    await rejected(w, () => postRaw(w, '/v1/actions', w.keys.agent, ''), 400, 'invalid_json');
  });

  test('a JSON body that is not an object is a 400 invalid_request', async () => {
    for (const text of ['null', '[]', '"deploy"', '42', 'true']) {
      await rejected(w, () => postRaw(w, '/v1/actions', w.keys.agent, text), 400, 'invalid_request');
    }
  });

  test('a body in any content type but JSON is a 415 unsupported_media_type', async () => {
    const body = JSON.stringify({ tool: 'deploy', arguments: {} });
    for (const type of [
      'text/plain',
      'text/plain; charset=utf-8',
      'application/x-www-form-urlencoded',
      'application/xml',
      'multipart/form-data; boundary=x',
    ]) {
      await rejected(w, () => postRaw(w, '/v1/actions', w.keys.agent, body, { 'content-type': type }), 415, 'unsupported_media_type');
    }
    await rejected(w, () => postRaw(w, '/v1/actions', w.keys.agent, body, {}), 415, 'unsupported_media_type');
  });

  test('fields of the wrong type are rejected, each named in issues', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ tool: 'deploy', arguments: 'x' }, 'arguments'],
      [{ tool: 'deploy', arguments: ['a'] }, 'arguments'],
      [{ tool: 'deploy', arguments: null }, 'arguments'],
      [{ tool: 5, arguments: {} }, 'tool'],
      [{ tool: ['deploy'], arguments: {} }, 'tool'],
      [{ tool: 'deploy' }, 'arguments'],
      [{ arguments: {} }, 'tool'],
      [{ tool: 'deploy', arguments: {}, session_id: 7 }, 'session_id'],
      [{ tool: 'deploy', arguments: {}, annotations: { readOnlyHint: 'true' } }, 'annotations.readOnlyHint'],
      [{ tool: 'deploy', arguments: {}, annotations: { readOnlyHint: 1 } }, 'annotations.readOnlyHint'],
    ];
    for (const [body, path] of cases) {
      const r = await rejected(w, () => call(w, 'POST', '/v1/actions', w.keys.agent, body), 400, 'invalid_request');
      assert.ok(
        r.body.error.issues.some((i: { path: string }) => i.path === path),
        `issues name ${path}: ${JSON.stringify(r.body.error.issues)}`,
      );
    }
  });

  test('values are never coerced: a string stays a string and a "true" read-only hint is not a boolean', async () => {
    const { status, body } = await propose(w, { arguments: { n: '1', flag: 'false', nothing: null, list: ['1', 2] } });
    assert.equal(status, 201);
    assert.deepEqual(body.arguments, { n: '1', flag: 'false', nothing: null, list: ['1', 2] });
    const stored = await call(w, 'GET', `/v1/actions/${body.id}`, w.keys.alice);
    assert.strictEqual(stored.body.arguments.n, '1');
    assert.strictEqual(stored.body.arguments.flag, 'false');
  });

  test('an unknown top-level field is a 400 invalid_request whose issues name the field', async () => {
    const r = await rejected(w, () => propose(w, { colour: 'red' }), 400, 'invalid_request');
    assert.ok(
      r.body.error.issues.some((i: { path: string; message: string }) => i.path === 'colour' || i.message.includes('colour')),
      JSON.stringify(r.body.error.issues),
    );
    const { body: a } = await propose(w);
    const rv = await rejected(w, () => review(w, a.id, w.keys.alice, { decision: 'approve', note: 'x' }), 400, 'invalid_request');
    assert.ok(rv.body.error.issues.some((i: { message: string }) => i.message.includes('note')));
    await rejected(w, () => call(w, 'POST', `/v1/actions/${a.id}/cancel`, w.keys.agent, { why: 'x' }), 400, 'invalid_request');
  });

  test('a body over 1 MiB is a 413 payload_too_large', async () => {
    const text = JSON.stringify({ tool: 'deploy', arguments: { blob: 'a'.repeat(1024 * 1024) } });
    await rejected(w, () => postRaw(w, '/v1/actions', w.keys.agent, text), 413, 'payload_too_large');
    const { body: a } = await propose(w);
    await rejected(
      w,
      () => review(w, a.id, w.keys.alice, { decision: 'deny', reason: 'a'.repeat(1024 * 1024 + 1) }),
      413,
      'payload_too_large',
    );
  });

  test('arguments nested 32 levels deep are accepted and 33 levels are rejected', async () => {
    const ok = await postRaw(w, '/v1/actions', w.keys.agent, `{"tool":"deploy","arguments":${nested(32)}}`);
    assert.equal(ok.status, 201);
    const r = await rejected(
      w,
      () => postRaw(w, '/v1/actions', w.keys.agent, `{"tool":"deploy","arguments":${nested(33)}}`),
      400,
      'invalid_request',
    );
    assert.equal(r.body.error.issues[0].path, 'arguments');
  });

  test('hostile nesting a hundred thousand levels deep is a 400, never a crash, wherever it is put', async () => {
    const deep = nested(100_000);
    await rejected(w, () => postRaw(w, '/v1/actions', w.keys.agent, `{"tool":"deploy","arguments":${deep}}`), 400, 'invalid_request');
    await rejected(
      w,
      () => postRaw(w, '/v1/actions', w.keys.agent, `{"tool":"deploy","arguments":{},"metadata":${deep}}`),
      400,
      'invalid_request',
    );
    await rejected(
      w,
      () => postRaw(w, '/v1/actions', w.keys.agent, `{"tool":"deploy","arguments":{},"annotations":{"x":${deep}}}`),
      400,
      'invalid_request',
    );
    const { body: a } = await propose(w);
    await rejected(
      w,
      () => postRaw(w, `/v1/actions/${a.id}/reviews`, w.keys.alice, `{"decision":"approve","arguments":${deep}}`),
      400,
      'invalid_request',
    );
    assert.equal((await review(w, a.id, w.keys.alice, { decision: 'approve' })).status, 200);
    await rejected(
      w,
      () => postRaw(w, `/v1/actions/${a.id}/result`, w.keys.agent, `{"outcome":"succeeded","output":${deep}}`),
      400,
      'invalid_request',
    );
    assert.equal((await call(w, 'GET', `/v1/actions/${a.id}`, w.keys.agent)).body.status, 'approved');
  });

  test('arguments over 256 KiB are rejected, counting bytes rather than characters', async () => {
    const limit = w.gw.deps.config.limits.argumentsBytes;
    assert.equal(limit, 256 * 1024);
    // {"s":"…"} is 8 bytes of JSON around the string.
    const ok = await propose(w, { arguments: { s: 'a'.repeat(limit - 8) } });
    assert.equal(ok.status, 201);
    await rejected(w, () => propose(w, { arguments: { s: 'a'.repeat(limit - 7) } }), 400, 'invalid_request');
    // Two bytes per character: well under the limit in characters, just over it in bytes.
    const wide = 'é'.repeat((limit - 8) / 2 + 1);
    assert.ok(wide.length < limit);
    const r = await rejected(w, () => propose(w, { arguments: { s: wide } }), 400, 'invalid_request');
    assert.equal(r.body.error.issues[0].path, 'arguments');
    await rejected(w, () => propose(w, { metadata: { s: 'a'.repeat(limit) } }), 400, 'invalid_request');
    const { body: a } = await propose(w);
    await rejected(w, () => review(w, a.id, w.keys.alice, { decision: 'approve', arguments: { s: wide } }), 400, 'invalid_request');
    assert.equal((await review(w, a.id, w.keys.alice, { decision: 'approve' })).status, 200);
    await rejected(
      w,
      () => call(w, 'POST', `/v1/actions/${a.id}/result`, w.keys.agent, { outcome: 'succeeded', output: { s: wide } }),
      400,
      'invalid_request',
    );
  });

  test('a reason of 4096 bytes is accepted and one byte more is rejected, multi-byte characters counting as bytes', async () => {
    assert.equal(w.gw.deps.config.limits.reasonBytes, 4096);
    const { body: a } = await propose(w);
    for (const reason of ['a'.repeat(4097), `${'é'.repeat(2048)}a`, '€'.repeat(1366), '😀'.repeat(1025)]) {
      const r = await rejected(w, () => review(w, a.id, w.keys.alice, { decision: 'deny', reason }), 400, 'invalid_request');
      assert.equal(r.body.error.issues[0].path, 'reason');
      await rejected(w, () => call(w, 'POST', `/v1/actions/${a.id}/cancel`, w.keys.agent, { reason }), 400, 'invalid_request');
    }
    const ok = await review(w, a.id, w.keys.alice, { decision: 'deny', reason: 'é'.repeat(2048) });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.reason, 'é'.repeat(2048));
  });

  test('a NUL character in free text is rejected on every dialect instead of failing in storage', async () => {
    await rejected(w, () => propose(w, { purpose: 'a\u0000b' }), 400, 'invalid_request');
    const { body: a } = await propose(w);
    await rejected(w, () => review(w, a.id, w.keys.alice, { decision: 'deny', reason: 'a\u0000b' }), 400, 'invalid_request');
    await rejected(w, () => call(w, 'POST', `/v1/actions/${a.id}/cancel`, w.keys.agent, { reason: 'a\u0000b' }), 400, 'invalid_request');
    for (const q of ['tool=%00', 'agent=%00', 'session_id=a%00b']) {
      await rejected(w, () => call(w, 'GET', `/v1/actions?${q}`, w.keys.alice), 400, 'invalid_request');
    }
    for (const q of ['session=%00', 'action=%00', 'agent=%00']) {
      await rejected(w, () => call(w, 'GET', `/v1/events?${q}`, w.keys.alice), 400, 'invalid_request');
    }
  });

  test('control characters in a tool name or session id are rejected', async () => {
    for (const tool of [
      'deploy\u0000',
      'dep\nloy',
      'deploy\r',
      'de\tploy',
      '\u001b[31mdeploy',
      'deploy\u007f',
      'deploy\u0085',
      '',
      'x'.repeat(257),
    ]) {
      const r = await rejected(w, () => propose(w, { tool }), 400, 'invalid_request');
      assert.equal(r.body.error.issues[0].path, 'tool');
    }
    await rejected(w, () => propose(w, { session_id: 's\n1' }), 400, 'invalid_request');
    await rejected(w, () => propose(w, { resource: 'prod\u0007' }), 400, 'invalid_request');
  });

  test('on_behalf_of must be an email address', async () => {
    for (const email of [
      'alice',
      'alice@',
      '@example.com',
      'alice@example.com\n',
      'alice example@example.com',
      `${'a'.repeat(320)}@example.com`,
      7,
    ]) {
      const r = await rejected(w, () => propose(w, { on_behalf_of: email }), 400, 'invalid_request');
      assert.equal(r.body.error.issues[0].path, 'on_behalf_of');
    }
  });

  test('an Idempotency-Key that is not 1-255 printable ASCII characters is rejected', async () => {
    for (const key of ['has space', 'x'.repeat(256), 'ключ']) {
      await rejected(w, () => propose(w, {}, w.keys.agent, { 'idempotency-key': key }), 400, 'invalid_request');
    }
  });

  test('an unknown action id is a 404 not_found on every route', async () => {
    const id = newId();
    await rejected(w, () => call(w, 'GET', `/v1/actions/${id}`, w.keys.alice), 404, 'not_found');
    await rejected(w, () => call(w, 'GET', `/v1/actions/${id}?wait=1`, w.keys.alice), 404, 'not_found');
    await rejected(w, () => review(w, id, w.keys.alice, { decision: 'approve' }), 404, 'not_found');
    await rejected(w, () => call(w, 'POST', `/v1/actions/${id}/cancel`, w.keys.agent, {}), 404, 'not_found');
    await rejected(w, () => call(w, 'POST', `/v1/actions/${id}/result`, w.keys.agent, { outcome: 'succeeded' }), 404, 'not_found');
    await rejected(w, () => propose(w, { parent_id: id }), 404, 'not_found');
  });

  test('a malformed action id is a 404 not_found on every route', async () => {
    const { body: a } = await propose(w);
    for (const id of ['nope', '123', a.id.toUpperCase(), `${a.id}x`, `${a.id.slice(0, -1)}`, '%00', '%E2%80%AE', "'%20or%201=1--"]) {
      await rejected(w, () => call(w, 'GET', `/v1/actions/${id}`, w.keys.alice), 404, 'not_found');
      await rejected(w, () => review(w, id, w.keys.alice, { decision: 'approve' }), 404, 'not_found');
      await rejected(w, () => call(w, 'POST', `/v1/actions/${id}/cancel`, w.keys.agent, {}), 404, 'not_found');
      await rejected(w, () => call(w, 'POST', `/v1/actions/${id}/result`, w.keys.agent, { outcome: 'failed' }), 404, 'not_found');
    }
    assert.equal((await call(w, 'GET', `/v1/actions/${a.id}`, w.keys.alice)).body.status, 'pending');
  });

  test('an id longer than any id is rejected as invalid input', async () => {
    await rejected(w, () => call(w, 'GET', `/v1/actions/${'a'.repeat(65)}`, w.keys.alice), 400, 'invalid_request');
  });

  test('a missing, malformed or unknown API key is a 401 with a WWW-Authenticate challenge, and all read alike', async () => {
    const unknown = generateKey().key;
    const [prefix, secret] = [w.keys.agent.slice(0, 15), w.keys.agent.slice(16)];
    const wrongSecret = `${prefix}_${secret.startsWith('A') ? 'B' : 'A'}${secret.slice(1)}`;
    const attempts: Array<Record<string, string>> = [
      {},
      { authorization: '' },
      { authorization: 'Bearer' },
      { authorization: `Basic ${Buffer.from('agent:secret').toString('base64')}` },
      { authorization: w.keys.agent },
      { authorization: 'Bearer cs_123' },
      { authorization: `Bearer ${w.keys.agent}x` },
      { authorization: `Bearer ${unknown}` },
      { authorization: `Bearer ${wrongSecret}` },
    ];
    const messages = new Set<string>();
    for (const headers of attempts) {
      const r = await rejected(
        w,
        () => call(w, 'POST', '/v1/actions', undefined, { tool: 'deploy', arguments: {} }, headers),
        401,
        'unauthenticated',
      );
      assert.equal(r.headers['www-authenticate'], 'Bearer realm="countersign"');
      if (headers.authorization?.startsWith('Bearer cs_')) messages.add(r.body.error.message);
      const g = await rejected(w, () => call(w, 'GET', '/v1/actions', undefined, undefined, headers), 401, 'unauthenticated');
      assert.equal(g.headers['www-authenticate'], 'Bearer realm="countersign"');
    }
    assert.equal(messages.size, 1, 'a malformed, unknown and wrong-secret key give the same answer');
  });

  test('a revoked key fails on the very next request', async () => {
    const agent = await addAgent(w.gw.deps, ADMIN, { name: 'short-lived', owner: 'bob@example.com' });
    const user = await addUser(w.gw.deps, ADMIN, { email: 'temp@example.com', role: 'reviewer' });
    assert.equal((await propose(w, {}, agent.apiKey)).status, 201);
    assert.equal((await call(w, 'GET', '/v1/me', user.apiKey)).status, 200);
    await revokeKey(w.gw.deps, ADMIN, agent.keyPrefix);
    await revokeKey(w.gw.deps, ADMIN, user.keyPrefix);
    const r = await rejected(w, () => propose(w, {}, agent.apiKey), 401, 'unauthenticated');
    assert.equal(r.headers['www-authenticate'], 'Bearer realm="countersign"');
    await rejected(w, () => call(w, 'GET', '/v1/me', user.apiKey), 401, 'unauthenticated');
    const { body: a } = await propose(w);
    await rejected(w, () => review(w, a.id, user.apiKey, { decision: 'approve' }), 401, 'unauthenticated');
  });

  test('people cannot propose actions, whatever their role', async () => {
    for (const key of [w.keys.alice, w.keys.victor, w.keys.ada, w.keys.bob]) {
      await rejected(w, () => propose(w, {}, key), 403, 'forbidden');
    }
  });

  test('a wait over 60 seconds, or one that is not a number of seconds, is rejected', async () => {
    const { body: a } = await propose(w);
    for (const wait of ['61', '60.5', '600', '-1', 'abc', '1e3', '', '5s']) {
      await rejected(w, () => call(w, 'GET', `/v1/actions/${a.id}?wait=${wait}`, w.keys.agent), 400, 'invalid_request');
    }
    await rejected(w, () => call(w, 'GET', `/v1/actions/${a.id}?wait=1&w=2`, w.keys.agent), 400, 'invalid_request');
  });

  test('a bad limit, cursor, status or unknown parameter on the list is rejected', async () => {
    for (const q of [
      'limit=0',
      'limit=201',
      'limit=-1',
      'limit=abc',
      'limit=1.5',
      'limit=1000',
      'cursor=nope',
      `cursor=${'a'.repeat(65)}`,
      'cursor=%00',
      'status=bogus',
      'sort=asc',
    ]) {
      await rejected(w, () => call(w, 'GET', `/v1/actions?${q}`, w.keys.alice), 400, 'invalid_request');
    }
    assert.equal((await call(w, 'GET', '/v1/actions?limit=200', w.keys.alice)).status, 200);
    assert.equal((await call(w, 'GET', '/v1/actions?limit=1', w.keys.alice)).status, 200);
  });

  test('a bad event stream filter is answered before the stream opens', async () => {
    await rejected(w, () => call(w, 'GET', '/v1/events?agent=no-such-agent', w.keys.alice), 404, 'not_found');
    await rejected(w, () => call(w, 'GET', '/v1/events?after=-1', w.keys.alice), 400, 'invalid_request');
    await rejected(w, () => call(w, 'GET', '/v1/events?colour=red', w.keys.alice), 400, 'invalid_request');
    await rejected(w, () => call(w, 'GET', '/v1/events'), 401, 'unauthenticated');
  });

  test('the audit chain still verifies after every rejected request', async () => {
    const { verifyAudit } = await import('../src/domain/audit/verify-audit.js');
    const r = await verifyAudit(w.gw.deps.db.read);
    assert.equal(r.ok, true, r.firstBad?.problem);
  });
});
