import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ERROR_CODES } from '../src/lib/errors.js';
import { call, type World, world } from './helpers.js';
import { firstResponse, rawExchange } from './raw-http.js';

// Every response >= 400 is {"error":{"code","message"}} with a code from the fixed set, including the
// ones the HTTP parser and the framework produce before any route runs. Raw sockets where Fastify's
// inject cannot express the request (it never goes through Node's parser).

function assertEnvelope(status: number, body: unknown, expected: { status: number; code: string }, what: string) {
  assert.equal(status, expected.status, `${what}: ${JSON.stringify(body)}`);
  const error = (body as { error?: { code?: unknown; message?: unknown } })?.error;
  assert.ok(error && typeof error === 'object', `${what}: the body is the error envelope, got ${JSON.stringify(body)}`);
  assert.equal(error.code, expected.code, what);
  assert.ok((ERROR_CODES as readonly unknown[]).includes(error.code), `${what}: a known code`);
  assert.equal(typeof error.message, 'string', what);
  assert.ok((error.message as string).length > 0, what);
}

describe('the error envelope for errors raised below the routes', () => {
  let w: World;
  before(async () => {
    w = await world('sqlite', { listen: true });
  });
  after(async () => w.close());

  const raw = async (what: string, bytes: string, expected: { status: number; code: string }) => {
    const r = await rawExchange(w.gw.url, [bytes]);
    assert.equal(r.closedByServer, true, `${what}: the server closes the connection`);
    const res = firstResponse(r.text);
    assertEnvelope(res.status, res.body, expected, what);
    assert.match(res.headers, /^content-type: application\/json/im, what);
    return res;
  };

  test('headers larger than the server accepts answer 431 in the envelope', async () => {
    await raw('431', `GET /healthz HTTP/1.1\r\nHost: gateway\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, {
      status: 431,
      code: 'payload_too_large',
    });
  });

  test('a request line too long for the parser answers 431 in the envelope', async () => {
    await raw('long URL', `GET /v1/actions?x=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: gateway\r\n\r\n`, {
      status: 431,
      code: 'payload_too_large',
    });
  });

  test('a malformed request line answers 400 in the envelope, naming the parser error', async () => {
    const res = await raw('garbage', 'THIS IS NOT HTTP\r\n\r\n', { status: 400, code: 'invalid_request' });
    assert.match(res.body.error.details.parser, /^HPE_/);
  });

  test('a header with a control character answers 400 in the envelope', async () => {
    await raw('bad header', 'GET /healthz HTTP/1.1\r\nHost: gateway\r\nX-Bad: a\u0001b\r\n\r\n', { status: 400, code: 'invalid_request' });
  });

  test('an invalid Content-Length answers 400 in the envelope', async () => {
    await raw('bad length', 'POST /v1/actions HTTP/1.1\r\nHost: gateway\r\nContent-Length: ten\r\n\r\n', {
      status: 400,
      code: 'invalid_request',
    });
  });

  test('an HTTP/1.1 request without Host answers 400 in the envelope', async () => {
    const r = await rawExchange(w.gw.url, ['GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n']);
    const res = firstResponse(r.text);
    assertEnvelope(res.status, res.body, { status: 400, code: 'invalid_request' }, 'no Host');
    assert.match(res.body.error.message, /Host/);
  });

  test('an Expect other than 100-continue answers 417 in the envelope', async () => {
    const r = await rawExchange(w.gw.url, ['GET /healthz HTTP/1.1\r\nHost: gateway\r\nExpect: teapot\r\nConnection: close\r\n\r\n']);
    const res = firstResponse(r.text);
    assertEnvelope(res.status, res.body, { status: 417, code: 'invalid_request' }, 'Expect');
  });

  test('a path parameter longer than any id answers 414 in the envelope', async () => {
    const r = await call(w, 'GET', `/v1/actions/${'a'.repeat(200)}`, w.keys.alice);
    assertEnvelope(r.status, r.body, { status: 414, code: 'invalid_request' }, '414');
  });

  test('a URL with broken percent-encoding answers 400 in the envelope', async () => {
    const r = await rawExchange(w.gw.url, ['GET /v1/actions/%E0%A4%A HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n\r\n']);
    const res = firstResponse(r.text);
    assertEnvelope(res.status, res.body, { status: 400, code: 'invalid_request' }, 'bad URL');
  });

  test('framework errors (bad JSON, empty JSON, wrong media type, too large, unknown route, wrong method) all answer in the envelope', async () => {
    const json = { 'content-type': 'application/json' };
    type Req = { method: 'GET' | 'POST' | 'DELETE'; url: string; headers?: Record<string, string>; payload?: string; anonymous?: true };
    const cases: [string, Req, { status: number; code: string }][] = [
      ['malformed JSON', { method: 'POST', url: '/v1/actions', headers: json, payload: '{"tool":' }, { status: 400, code: 'invalid_json' }],
      ['empty JSON body', { method: 'POST', url: '/v1/actions', headers: json, payload: '' }, { status: 400, code: 'invalid_json' }],
      [
        'text/plain body',
        { method: 'POST', url: '/v1/actions', headers: { 'content-type': 'text/plain' }, payload: 'hi' },
        { status: 415, code: 'unsupported_media_type' },
      ],
      [
        'unknown media type',
        { method: 'POST', url: '/v1/actions', headers: { 'content-type': 'application/x-whatever' }, payload: 'hi' },
        { status: 415, code: 'unsupported_media_type' },
      ],
      [
        'body over the limit',
        { method: 'POST', url: '/v1/actions', headers: json, payload: `{"x":"${'a'.repeat(2 * 1024 * 1024)}"}` },
        { status: 413, code: 'payload_too_large' },
      ],
      ['unknown route', { method: 'GET', url: '/v2/nothing' }, { status: 404, code: 'not_found' }],
      ['wrong method', { method: 'DELETE', url: '/v1/actions' }, { status: 404, code: 'not_found' }],
      ['no key', { method: 'GET', url: '/v1/actions', anonymous: true }, { status: 401, code: 'unauthenticated' }],
    ];
    for (const [what, req, expected] of cases) {
      const res = await w.gw.app.inject({
        method: req.method,
        url: req.url,
        headers: { ...(req.anonymous ? {} : { authorization: `Bearer ${w.keys.agent}` }), ...req.headers },
        ...(req.payload === undefined ? {} : { payload: req.payload }),
      });
      let body: unknown = res.body;
      try {
        body = JSON.parse(res.body);
      } catch {
        // asserted below
      }
      assertEnvelope(res.statusCode, body, expected, what);
    }
  });
});

describe('the error envelope while the gateway shuts down', () => {
  test('a request arriving once shutdown has begun answers 503 in the envelope', async () => {
    const w = await world('sqlite');
    try {
      // What preClose does first; the connections that are still open then see this answer.
      w.gw.app.closing.abort();
      const r = await call(w, 'GET', '/v1/actions', w.keys.alice);
      assertEnvelope(r.status, r.body, { status: 503, code: 'unavailable' }, 'closing');
      assert.equal(r.headers.connection, 'close');
    } finally {
      await w.close();
    }
  });
});
