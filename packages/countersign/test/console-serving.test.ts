import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Fastify from 'fastify';
import { sendError } from '../src/http/errors.js';
import { registerRoutes } from '../src/http/route-spec.js';
import { CONSOLE_CSP, consoleRoutes, defaultConsoleDist } from '../src/http/routes/console.js';
import { call, forEachDialect, type World, world } from './helpers.js';

const PAGES = [
  '/',
  '/inbox',
  '/actions/0190a000-0000-7000-8000-000000000000',
  '/sign-in?return_to=%2Factions%2Fx',
  '/admin/policy',
  '/admin/policy/playground',
  '/account',
  '/admin/people',
  '/admin/groups',
  '/admin/agents',
  '/admin/keys',
  '/admin/grants',
  '/history?status=pending&q=x',
  '/dashboard?range=24h',
  '/audit',
];

function built(): { dist: string; js: string; css: string } {
  const dist = defaultConsoleDist();
  assert.ok(dist, 'the gateway finds the console package (@countersign/console)');
  const files = readdirSync(join(dist, 'assets'));
  // The entry script (chunks loaded on demand, such as the argument editor, sit beside it).
  // The entry script (index-*.js); pages loaded on demand (the dashboard) are chunks of their own.
  const js = files.find((f) => f.startsWith('index-') && f.endsWith('.js'));
  const css = files.find((f) => f.endsWith('.css'));
  assert.ok(js && css, `the console is built (npm run build -w @countersign/console): ${files.join(', ')}`);
  return { dist, js, css };
}

forEachDialect('the gateway serves the reviewer console', (dialect) => {
  let w: World;
  before(async () => {
    w = await world(dialect);
  });
  after(async () => w.close());

  test("every console page is the build's index.html under the strict CSP, nosniff and no-referrer", async () => {
    const { js } = built();
    for (const url of PAGES) {
      const r = await call(w, 'GET', url);
      assert.equal(r.status, 200, url);
      assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
      assert.match(String(r.body), new RegExp(`<script type="module" crossorigin src="/assets/${js.replace('.', '\\.')}"></script>`));
      assert.ok(!/<script(?![^>]*\bsrc=)[^>]*>/.test(String(r.body)), 'no inline script');
      assert.equal(r.headers['content-security-policy'], CONSOLE_CSP);
      assert.equal(r.headers['x-content-type-options'], 'nosniff');
      assert.equal(r.headers['referrer-policy'], 'no-referrer');
      assert.equal(r.headers['cache-control'], 'no-cache');
    }
    const csp = Object.fromEntries(CONSOLE_CSP.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1).join(' ')]));
    for (const [directive, value] of Object.entries({
      'script-src': "'self'",
      'style-src': "'self'",
      'connect-src': "'self'",
      'frame-ancestors': "'none'",
      'base-uri': "'none'",
      'object-src': "'none'",
      'default-src': "'none'",
    })) {
      assert.equal(csp[directive], value, directive);
    }
  });

  test('built files are served with their content type and cached as immutable', async () => {
    const { js, css } = built();
    const script = await call(w, 'GET', `/assets/${js}`);
    assert.equal(script.status, 200);
    assert.equal(script.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(script.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(script.headers['x-content-type-options'], 'nosniff');
    const style = await call(w, 'GET', `/assets/${css}`);
    assert.equal(style.headers['content-type'], 'text/css; charset=utf-8');
    const missing = await call(w, 'GET', '/assets/nothing-here.js');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'not_found');
    for (const url of ['/assets/..%2Fpackage.json', '/assets/.hidden', '/assets/%2e%2e%2fpackage.json', '/assets/a%5Cb']) {
      const r = await call(w, 'GET', url);
      assert.equal(r.status, 400, url);
      assert.equal(r.body.error.code, 'invalid_request');
    }
    assert.equal((await call(w, 'GET', '/assets/../package.json')).status, 404, 'a path outside /assets/ is no route');
  });

  test('the API keeps its routes: unknown /v1 paths are JSON 404s, system and link pages are unchanged', async () => {
    const unknown = await call(w, 'GET', '/v1/no-such-thing');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'not_found');
    assert.equal((await call(w, 'GET', '/healthz')).body.status, 'ok');
    assert.equal((await call(w, 'GET', '/openapi.json')).body.openapi, '3.1.0');
    const setup = await call(w, 'GET', '/setup');
    assert.match(String(setup.headers['content-security-policy']), /script-src 'sha256-/);
    assert.equal((await call(w, 'GET', '/no-such-page')).status, 404, 'no catch-all: an unknown page is a 404');
    assert.equal((await call(w, 'GET', '/actions/a/b')).status, 404);
  });

  test('the sign-in page learns whether single sign-on is offered', async () => {
    const r = await call(w, 'GET', '/v1/auth/methods');
    assert.deepEqual([r.status, r.body], [200, { password: true, sso: false }]);
  });

  test('without a build, a page answers 503 saying how to build the console, and the rest keeps working', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'cs-no-console-'));
    try {
      for (const dist of [empty, undefined]) {
        const app = Fastify();
        app.setErrorHandler((err, request, reply) => sendError(request, reply, err));
        registerRoutes(
          app,
          w.gw.deps,
          consoleRoutes(() => dist),
        );
        const page = await app.inject({ method: 'GET', url: '/actions/x' });
        assert.equal(page.statusCode, 503);
        assert.equal(page.headers['content-type'], 'text/plain; charset=utf-8');
        assert.match(page.body, /not built/);
        assert.match(page.body, /npm run build -w @countersign\/console/);
        assert.equal((await app.inject({ method: 'GET', url: '/assets/index-x.js' })).statusCode, 404);
        assert.equal((await app.inject({ method: 'GET', url: '/v1/auth/methods' })).statusCode, 200);
        await app.close();
      }
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
