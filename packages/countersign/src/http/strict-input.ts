import type { FastifyInstance } from 'fastify';
import { assertStorableStrings, assertStrictJson } from '../lib/strict-json.js';

/**
 * JSON bodies, query strings, paths and headers holding a value that cannot be stored and read back
 * exactly (a non-finite number, an integer literal beyond ±(2^53−1), a lone surrogate; a NUL outside
 * JSON) are a 400 here, before any route runs: past this point such a value could only fail a write,
 * or silently change what a reviewer approves. One JSON parser serves every route.
 */
export function installStrictInput(app: FastifyInstance): void {
  // Fastify's own parser keeps refusing __proto__ and constructor.prototype keys; this one adds the check.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    parseJson(request, text, (err, value) => {
      if (err) return done(err);
      try {
        assertStrictJson(text, value);
        done(null, value);
      } catch (e) {
        done(e as Error);
      }
    });
  });
  // Every request passes here: a callback hook, so the common case allocates no promise.
  app.addHook('preValidation', (request, _reply, done) => {
    try {
      assertStorableStrings(request.query, 'query string');
      assertStorableStrings(request.params, 'path', { nul: false });
      assertStorableStrings(request.headers, 'headers');
    } catch (e) {
      return done(e as Error);
    }
    done();
  });
}
