import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ROUTES } from '../src/http/server.js';
import { VERSION } from '../src/version.js';
import { call, forEachDialect, propose, type World, world } from './helpers.js';

/** The value of one sample in Prometheus text format, or undefined if absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got: Record<string, string> = {};
    for (const pair of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) got[pair[1] as string] = pair[2] as string;
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}

/** Resolves a local JSON pointer ("#/components/schemas/Action") inside the document. */
function resolvePointer(doc: unknown, ref: string): unknown {
  assert.ok(ref.startsWith('#/'), `only local refs: ${ref}`);
  let node: unknown = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (node === null || typeof node !== 'object' || !(key in node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** Follows $ref to $ref until a real schema; fails on a missing target or a cycle of references. */
function deref(doc: unknown, ref: string): Record<string, unknown> {
  const seen = new Set<string>();
  let current = ref;
  for (;;) {
    assert.ok(!seen.has(current), `${ref} is a cycle of references, never a schema`);
    seen.add(current);
    const node = resolvePointer(doc, current);
    assert.ok(node !== null && typeof node === 'object', `${current} resolves`);
    const next = (node as { $ref?: unknown }).$ref;
    if (typeof next !== 'string') return node as Record<string, unknown>;
    current = next;
  }
}

function collectRefs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const v of node) collectRefs(v, out);
  else if (node !== null && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else collectRefs(v, out);
    }
  }
  return out;
}

forEachDialect('system endpoints', (dialect) => {
  let w: World;
  before(async () => {
    w = await world(dialect, { trustAnnotationsOf: ['deployer'] });
  });
  after(async () => w.close());

  test('/healthz answers ok without a key', async () => {
    const r = await call(w, 'GET', '/healthz');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { status: 'ok' });
  });

  test('/readyz answers ok, names the database and reports the audit chain, without a key', async () => {
    const r = await call(w, 'GET', '/readyz');
    assert.equal(r.status, 200);
    assert.equal(r.body.status, 'ok');
    assert.equal(r.body.database, dialect);
    assert.equal(r.body.checks.database, 'ok');
    // The start-up verification of the audit chain may not have finished yet.
    assert.ok(['intact', 'not verified yet'].includes(r.body.checks.audit_chain), r.body.checks.audit_chain);
  });

  test('/metrics is Prometheus text and counts a proposal in countersign_actions_created_total', async () => {
    const before = await call(w, 'GET', '/metrics');
    assert.equal(before.status, 200);
    assert.match(String(before.headers['content-type']), /^text\/plain/);
    assert.equal(typeof before.body, 'string');
    assert.match(before.body, /^# HELP countersign_actions_created_total /m);
    assert.match(before.body, /^# TYPE countersign_actions_created_total counter$/m);
    const pendingBefore = sample(before.body, 'countersign_actions_created_total', { status: 'pending' }) ?? 0;

    assert.equal((await propose(w)).status, 201);
    assert.equal((await propose(w, { annotations: { readOnlyHint: true } })).status, 201);
    const afterText = (await call(w, 'GET', '/metrics')).body as string;
    assert.equal(sample(afterText, 'countersign_actions_created_total', { status: 'pending' }), pendingBefore + 1);
    assert.ok((sample(afterText, 'countersign_actions_created_total', { status: 'approved' }) ?? 0) >= 1);
    assert.ok(
      (sample(afterText, 'countersign_http_request_duration_seconds_count', { method: 'POST', route: '/v1/actions', code: '201' }) ?? 0) >=
        2,
      'requests are timed by route',
    );
    assert.match(afterText, /^countersign_process_cpu_user_seconds_total /m);
  });

  test('a rejected proposal is not counted as created', async () => {
    const text = async () => (await call(w, 'GET', '/metrics')).body as string;
    const before = sample(await text(), 'countersign_actions_created_total', { status: 'pending' });
    assert.equal((await propose(w, { tool: 5 })).status, 400);
    assert.equal(sample(await text(), 'countersign_actions_created_total', { status: 'pending' }), before);
  });

  test('/openapi.json is an OpenAPI 3.1.0 document listing every route with its method', async () => {
    const r = await call(w, 'GET', '/openapi.json');
    assert.equal(r.status, 200);
    const doc = r.body;
    assert.equal(doc.openapi, '3.1.0');
    assert.equal(doc.info.version, VERSION);
    assert.ok(ROUTES.length >= 10);
    const operationIds = new Set<string>();
    for (const route of ROUTES) {
      const path = route.url.replace(/:([A-Za-z_]+)/g, '{$1}');
      const op = doc.paths[path]?.[route.method.toLowerCase()];
      assert.ok(op, `${route.method} ${path} is documented`);
      assert.equal(op.operationId, route.operationId);
      assert.ok(!operationIds.has(op.operationId), `operationId ${op.operationId} is unique`);
      operationIds.add(op.operationId);
      for (const code of Object.keys(route.responses)) assert.ok(op.responses[code], `${route.operationId} documents ${code}`);
      for (const [, name] of route.url.matchAll(/:([A-Za-z_]+)/g)) {
        assert.ok(
          (op.parameters ?? []).some(
            (p: { name: string; in: string; required: boolean }) => p.name === name && p.in === 'path' && p.required,
          ),
          `${route.operationId} declares path parameter ${name}`,
        );
      }
      if (route.auth === 'none') assert.deepEqual(op.security, []);
      else assert.equal(op.security, undefined, 'authenticated routes use the document-wide bearer scheme');
    }
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops as object).map((m) => `${m.toUpperCase()} ${p}`));
    assert.equal(documented.length, ROUTES.length, 'nothing documented that is not routed');
    assert.deepEqual(doc.security, [{ bearer: [] }]);
    assert.equal(doc.components.securitySchemes.bearer.scheme, 'bearer');
  });

  test('/openapi.json has the Action schema in components and every $ref resolves inside the document', async () => {
    const doc = (await call(w, 'GET', '/openapi.json')).body;
    const action = doc.components.schemas.Action;
    assert.ok(action, 'components.schemas.Action');
    assert.equal(action.type, 'object');
    for (const field of ['id', 'status', 'version', 'tool', 'arguments', 'agent', 'expires_at', 'decided_by', 'reason', 'reviews']) {
      assert.ok(action.properties[field], `Action.${field}`);
    }
    assert.deepEqual(action.properties.status.enum, ['pending', 'approved', 'denied', 'expired', 'cancelled', 'executed', 'failed']);
    const refs = collectRefs(doc);
    assert.ok(refs.includes('#/components/schemas/Action'));
    for (const ref of refs) assert.ok(Object.keys(deref(doc, ref)).length > 0, `${ref} is a real schema`);
    for (const name of Object.keys(doc.components.schemas)) deref(doc, `#/components/schemas/${name}`);
    assert.ok(!JSON.stringify(doc).includes('$defs'), 'no JSON Schema $defs left behind');
    const getAction = doc.paths['/v1/actions/{id}'].get;
    assert.deepEqual(getAction.responses['200'].content['application/json'].schema, { $ref: '#/components/schemas/Action' });
    const propose = doc.paths['/v1/actions'].post;
    const body = resolvePointer(doc, propose.requestBody.content['application/json'].schema.$ref) as {
      required: string[];
      additionalProperties: boolean;
    };
    assert.deepEqual([...body.required].sort(), ['arguments', 'tool']);
    assert.equal(body.additionalProperties, false, 'the document says unknown fields are rejected, as they are');
  });

  test('/v1/me describes a person', async () => {
    const r = await call(w, 'GET', '/v1/me', w.keys.alice);
    assert.equal(r.status, 200);
    assert.equal(r.body.type, 'user');
    assert.equal(r.body.id, w.ids.alice);
    assert.equal(r.body.email, 'alice@example.com');
    assert.equal(r.body.role, 'reviewer');
    assert.deepEqual(r.body.groups, []);
    assert.ok(w.keys.alice.startsWith(`${r.body.key_prefix}_`), 'the key prefix, never the secret');
    assert.equal(r.body.credential, 'api_key');
    assert.ok(!JSON.stringify(r.body).includes(w.keys.alice.slice(16)));
    assert.equal((await call(w, 'GET', '/v1/me', w.keys.victor)).body.role, 'viewer');
  });

  test('/v1/me describes an agent', async () => {
    const r = await call(w, 'GET', '/v1/me', w.keys.agent);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, {
      type: 'agent',
      id: w.ids.agent,
      name: 'deployer',
      key_prefix: w.keys.agent.slice(0, 15),
      credential: 'api_key',
    });
  });

  test('/v1/me needs a key', async () => {
    const r = await call(w, 'GET', '/v1/me');
    assert.equal(r.status, 401);
    assert.equal(r.body.error.code, 'unauthenticated');
  });

  test('an unknown route or method is a 404 with a JSON error', async () => {
    for (const [method, url] of [
      ['GET', '/nope'],
      ['GET', '/v1'],
      ['GET', '/v1/actionz'],
      ['POST', '/healthz'],
      ['DELETE', '/v1/actions'],
      ['PUT', '/v1/me'],
      ['GET', '/v1/actions/x/y/z'],
    ] as const) {
      const res = await w.gw.app.inject({ method, url, headers: { authorization: `Bearer ${w.keys.alice}` } });
      assert.equal(res.statusCode, 404, `${method} ${url}`);
      assert.match(String(res.headers['content-type']), /^application\/json/);
      const body = JSON.parse(res.body);
      assert.equal(body.error.code, 'not_found');
      assert.match(body.error.message, /no route/);
    }
    // The path is echoed, the query string is not.
    const r = await call(w, 'GET', '/nope?token=secret');
    assert.equal(r.body.error.message, 'no route GET /nope');
  });
});
